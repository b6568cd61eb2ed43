#!/usr/bin/env bash
# Two meshgate binaries (main before and after a change) and the new one with a config that sets nothing but
# the endpoint (default pool, default retries), next to nginx and HAProxy in ONE run of the reference harness
# on the same origin. Ratios within one run are what to compare (issue 17's "not worse than today").
#
#   bench/before-after.sh OLD_BINARY                       # new = this tree's release build
#   bench/before-after.sh OLD_BINARY --reps 1 --duration 5 # extra options go to bench.py
# Build the old binary in a worktree:  git worktree add /tmp/mg-old <commit> &&
#   (cd /tmp/mg-old && swift build -c release --product meshgate)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
old="${1:?usage: bench/before-after.sh OLD_BINARY [bench.py options]}"
shift
(cd "$root" && swift build -c release --product meshgate >/dev/null)
new="$root/.build/release/meshgate"
tmp="$(mktemp -d /tmp/meshgate-ba.XXXX)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
tuned() { # port
    sed "s/127.0.0.1:18090/127.0.0.1:$1/" "$here/meshgate.json"
}
cat >"$tmp/default.json" <<'JSON'
{ "version": 1, "admin": null,
  "listeners": [ { "name": "bench", "address": "127.0.0.1:18096",
    "routes": [ { "name": "all", "match": { "path_prefix": "/" }, "upstream": "origin" } ] } ],
  "upstreams": { "origin": { "endpoints": ["127.0.0.1:18080"] } },
  "logging": { "level": "info", "access_log": false } }
JSON
tuned 18090 >"$tmp/new.json"
tuned 18094 >"$tmp/old.json"
# Own sessions, pinned like the harness's servers (see run-meshgate.sh: autogroup scheduling skews otherwise).
start() { # binary config log
    setsid taskset -c 1 "$1" run --config "$2" --workers 1 >"$3" 2>&1 &
    pids+=($!)
}
start "$new" "$tmp/new.json" "$tmp/new.log"
start "$old" "$tmp/old.json" "$tmp/old.log"
start "$new" "$tmp/default.json" "$tmp/default.log"
sleep 1
"$here/run.sh" --proxies nginx,haproxy \
    --target meshgate-new=http://127.0.0.1:18090 --pid "${pids[0]}" \
    --target meshgate-old=http://127.0.0.1:18094 --pid "${pids[1]}" \
    --target meshgate-default=http://127.0.0.1:18096 --pid "${pids[2]}" \
    --tests hello_c50,big_c50,hello_c1 "$@"

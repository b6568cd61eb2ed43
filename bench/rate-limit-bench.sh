#!/usr/bin/env bash
# Rate limits (issue 13): /hello through meshgate without a limit, with a process-scope limit that never
# triggers, and with a global (Redis) limit that never triggers, next to nginx and HAProxy in ONE run of the
# reference harness on the same origin; then the Redis commands the global run cost per request.
#
#   bench/rate-limit-bench.sh                       # options after it go to bench.py (e.g. --reps 1 --duration 5)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bin="${MESHGATE_BIN:-$root/.build/release/meshgate}"
tmp="$(mktemp -d /tmp/meshgate-rl.XXXX)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
setsid taskset -c 1 redis-server --port 18379 --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
pids+=($!)
config() { # port rate_limit-json
    sed -e "s/127.0.0.1:18090/127.0.0.1:$1/" -e "s|\"retry\": { \"retries\": 0 }|\"retry\": { \"retries\": 0 }$2|" \
        -e "s|\"version\": 1,|\"version\": 1, \"rate_limits\": { \"store\": { \"redis\": \"127.0.0.1:18379\", \"timeout_ms\": 50 } },|" \
        "$here/meshgate.json"
}
# 10^9 requests/s with a burst of 10^9: admitted always, but judged on every request.
never='"requests_per_second": 1000000000, "burst": 1000000000'
config 18090 "" >"$tmp/none.json"
config 18091 ", \"rate_limit\": { \"key\": \"client_ip\", $never }" >"$tmp/process.json"
config 18092 ", \"rate_limit\": { \"key\": \"client_ip\", $never, \"scope\": \"global\" }" >"$tmp/global.json"
for name in none process global; do
    setsid taskset -c 1 "$bin" run --config "$tmp/$name.json" --workers 1 >"$tmp/$name.log" 2>&1 &
    pids+=($!)
done
sleep 1
before=$(redis-cli -p 18379 info stats | awk -F: '/total_commands_processed/ {print $2+0}')
"$here/run.sh" --proxies nginx,haproxy \
    --target meshgate-nolimit=http://127.0.0.1:18090 --pid "${pids[1]}" \
    --target meshgate-process=http://127.0.0.1:18091 --pid "${pids[2]}" \
    --target meshgate-global=http://127.0.0.1:18092 --pid "${pids[3]}" \
    --tests hello_c50 "$@"
after=$(redis-cli -p 18379 info stats | awk -F: '/total_commands_processed/ {print $2+0}')
echo "redis commands during the run: $((after - before)) (all targets; only meshgate-global talks to Redis)"

#!/usr/bin/env bash
# Idle keep-alive memory per connection, meshgate next to nginx and HAProxy on the same origin (issue 17).
#   bench/idle-memory.sh                      # 3000 connections
#   bench/idle-memory.sh --connections 1000
# Needs Debian's nginx and haproxy (installed if missing). Prints a markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
need=()
for b in nginx haproxy taskset; do command -v "$b" >/dev/null || need+=("$b"); done
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx haproxy
fi
(cd "$root" && swift build -c release --product meshgate >/dev/null)
tmp="$(mktemp -d /tmp/meshgate-idle.XXXX)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/meshgate.json" <<'JSON'
{ "version": 1, "admin": null,
  "listeners": [ { "name": "bench", "address": "127.0.0.1:18090",
    "routes": [ { "name": "all", "match": { "path_prefix": "/" }, "upstream": "origin" } ] } ],
  "upstreams": { "origin": { "endpoints": ["127.0.0.1:18080"] } },
  "limits": { "idle_timeout_ms": 75000 },
  "logging": { "level": "warn", "access_log": false }, "watch_config": false }
JSON
python3 "$here/idle_memory.py" --meshgate "$root/.build/release/meshgate" --config "$tmp/meshgate.json" "$@"

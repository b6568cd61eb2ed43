#!/usr/bin/env bash
# REST→gRPC transcoding (issue 16): the same profile lookup through one meshgate, three ways, in ONE run against
# the same profile-service (its gRPC side, h2c):
#   grpc        plain gRPC through the gateway (POST /profile.v1.Profiles/GetProfile, h2c client)
#   rest-h2     the transcoded REST call (GET /v1/profiles/alice) from an h2c client
#   rest-h1     the transcoded REST call from HTTP/1.1 keep-alive clients
# and, as the floor, gRPC straight to profile-service. Load from h2load (also its --h1 mode), shapes 1x1 (one
# connection, one request at a time) and 50x1 (50 connections) → req/s, gateway CPU µs/request (schedstat),
# medians of the reps, ratios to plain gRPC through the gateway. h2load on CPU 0, gateway and service on CPU 1.
#
#   bench/transcode-bench.sh                      # 3 reps x 10 s
#   bench/transcode-bench.sh --reps 1 --duration 5
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
reps=3
duration=10
bench_args transcode-bench.sh "$@"
bench_need "h2load" "nghttp2-client"
(cd "$root" && swift build -c release --product meshgate >/dev/null && swift build -c release --product profile-service >/dev/null)
bin="${MESHGATE_BIN:-$root/.build/release/meshgate}"
service="$root/.build/release/profile-service"

bench_tmpdir meshgate-transcode-bench
bench_start "$tmp/profile.out" "$service" --listen 127.0.0.1:18090 --data-dir "$tmp/profile"
cat >"$tmp/meshgate.json" <<EOF
{ "version": 1, "admin": null,
  "listeners": [{ "name": "bench", "address": "127.0.0.1:18492",
    "routes": [{ "match": { "path_prefix": "/" }, "upstream": "profile", "public": true,
                 "grpc_transcode": { "descriptor_set": "$root/backends/protos/profile.pb" } }] }],
  "upstreams": { "profile": { "endpoints": ["127.0.0.1:18090"], "protocol": "h2c" } },
  "limits": { "idle_timeout_ms": 75000 },
  "logging": { "level": "warn", "access_log": false }, "watch_config": false }
EOF
bench_start "$tmp/meshgate.out" "$bin" run --config "$tmp/meshgate.json" --workers 1
meshgate_pid=$started
bench_wait_ports 18090 18492
curl -sf -X PUT -H "x-user-id: alice" -d '{"nickname":"Alice","avatar_url":"https://example.com/a.png"}' \
    http://127.0.0.1:18090/profiles/alice >/dev/null
# GetProfileRequest{user: "alice"}, gRPC-framed: flag 0, length 7, field 1 (0x0a) of 5 bytes.
printf '\x00\x00\x00\x00\x07\x0a\x05alice' >"$tmp/get.bin"
echo "transcoded answer: $(curl -sf http://127.0.0.1:18492/v1/profiles/alice)" >&2

# run <kind> <clients>: prints "requests/s cpu_us_per_request"
run() {
    local kind="$1" clients="$2" before after out done_ failed args
    local grpc=(-d "$tmp/get.bin" -H "content-type: application/grpc" -H "te: trailers")
    case "$kind" in
    grpc) args=("${grpc[@]}" http://127.0.0.1:18492/profile.v1.Profiles/GetProfile) ;;
    direct) args=("${grpc[@]}" http://127.0.0.1:18090/profile.v1.Profiles/GetProfile) ;;
    rest-h2) args=(http://127.0.0.1:18492/v1/profiles/alice) ;;
    rest-h1) args=(--h1 http://127.0.0.1:18492/v1/profiles/alice) ;;
    esac
    before=$(runtime "$meshgate_pid")
    out=$(taskset -c 0 h2load -D "$duration" -c "$clients" -m 1 -t 1 "${args[@]}" 2>&1)
    after=$(runtime "$meshgate_pid")
    done_=$(awk '/^requests:/ {print $8}' <<<"$out")
    failed=$(awk '/^requests:/ {print $10}' <<<"$out")
    [[ "$failed" != "0" ]] && echo "  ($kind c$clients: $failed failed)" >&2
    rate_and_cpu "$done_" "$before" "$after" "$duration"
}

declare -A results
kinds=(grpc rest-h2 rest-h1 direct)
for rep in $(seq "$reps"); do
    for kind in "${kinds[@]}"; do
        for c in 1 50; do results[$kind,$c]+="$(run "$kind" "$c");"; done
    done
done

echo "transcoding bench $(date -u +%F) — $reps reps x ${duration}s, h2load on CPU 0, meshgate (1 worker) + profile-service on CPU 1"
printf '%-6s %-8s %12s %14s %12s\n' conns kind "req/s" "gw CPU µs/req" "req/s÷grpc"
for c in 1 50; do
    base=$(median 1 <<<"${results[grpc,$c]}")
    for kind in "${kinds[@]}"; do
        rps=$(median 1 <<<"${results[$kind,$c]}")
        cpu=$(median 2 <<<"${results[$kind,$c]}")
        [[ $kind == direct ]] && cpu="-"
        printf '%-6s %-8s %12s %14s %12.3f\n' "$c" "$kind" "$rps" "$cpu" "$(python3 -c "print($rps/$base)")"
    done
done

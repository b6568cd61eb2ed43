#!/usr/bin/env bash
# TLS termination: meshgate against nginx and HAProxy in ONE run, same origin, same certificate (ECDSA P-256),
# same OpenSSL (Debian's libssl3), one worker each (issue 11):
#   keepalive   wrk -c 50 over TLS keep-alive connections, GET /hello        → req/s, CPU µs/request
#   resumed     wrk -c 50 with `Connection: close`: a new connection per request, which wrk resumes with the
#               last connection's session whenever the server renewed its ticket → handshakes/s, CPU µs/each
#   full        tls-bio/handshake_load -c 50: a new connection and a FULL handshake per request (the client
#               never offers a session) → handshakes/s, CPU µs/handshake
# Method as the reference harness (bench/RESULTS.md): wrk pinned to CPU 0, origin and proxy share CPU 1, so
# throughput reads out the proxy's CPU cost; CPU comes from the proxy's schedstat run time.
#
#   bench/tls-bench.sh                      # 3 reps x 10 s per target and test (~4 min)
#   bench/tls-bench.sh --reps 1 --duration 5
# Needs nginx haproxy wrk openssl (installed if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
reps=3
duration=10
bench_args tls-bench.sh "$@"
bench_need "nginx haproxy wrk openssl taskset" "nginx haproxy wrk openssl"
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bin="${MESHGATE_BIN:-$root/.build/release/meshgate}"

bench_tmpdir meshgate-tls-bench
loader="$tmp/handshake_load"
cc -O2 -o "$loader" "$root/bench/tls-bio/handshake_load.c" -lssl -lcrypto
bench_cert

bench_nginx_conf nginx "    ssl_session_cache off;
    ssl_session_tickets on;
    upstream origin { server 127.0.0.1:18080; keepalive 128; }
    server {
        listen 127.0.0.1:18443 ssl backlog=4096;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        $bench_proxy_location
    }"
cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 75s
    timeout server 75s
frontend fe
    bind 127.0.0.1:18444 ssl crt $tmp/haproxy.pem
    default_backend origin
backend origin
    http-reuse safe
    server s1 127.0.0.1:18080
EOF
cat >"$tmp/meshgate.json" <<EOF
{ "version": 1, "admin": null,
  "listeners": [{ "name": "bench", "address": "127.0.0.1:18445",
    "tls": { "certificates": [{ "cert_file": "$tmp/cert.pem", "key_file": "$tmp/key.pem" }] },
    "routes": [{ "match": { "path_prefix": "/" }, "upstream": "origin", "public": true, "retry": { "retries": 0 } }] }],
  "upstreams": { "origin": { "endpoints": ["127.0.0.1:18080"],
                 "pool": { "max_connections": 1024, "idle_timeout_ms": 75000 } } },
  "limits": { "idle_timeout_ms": 75000 },
  "logging": { "level": "warn", "access_log": false }, "watch_config": false }
EOF

bench_three_proxies 18443 18444 18445

# run <pid> <url> [wrk args]: prints "requests/s cpu_us_per_request"
run() {
    local pid="$1" url="$2"
    shift 2
    local before after out requests
    before=$(runtime "$pid")
    out=$(taskset -c 0 wrk -t1 -c50 -d"${duration}s" "$@" "$url")
    after=$(runtime "$pid")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    local errors
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
    [[ -n "$errors" ]] && echo "  ($url $*: $errors)" >&2
    rate_and_cpu "$requests" "$before" "$after" "$duration"
}

# full <pid> <port>: prints "handshakes/s cpu_us_per_handshake"
full() {
    local pid="$1" port="$2" before after completed failed seconds
    before=$(runtime "$pid")
    read -r completed failed seconds < <(taskset -c 0 "$loader" 127.0.0.1 "$port" /hello 50 "$duration")
    after=$(runtime "$pid")
    ((failed == 0)) || echo "  (full handshakes on $port: $failed failed)" >&2
    rate_and_cpu "$completed" "$before" "$after" "$seconds"
}

declare -A results
for rep in $(seq "$reps"); do
    for target in $(bench_order "$rep"); do
        bench_pick "$target" 18443 18444 18445
        results[$target,keepalive]+="$(run "$pid" "https://127.0.0.1:$port/hello");"
        results[$target,resumed]+="$(run "$pid" "https://127.0.0.1:$port/hello" -H "Connection: close");"
        results[$target,full]+="$(full "$pid" "$port");"
    done
done

printf '%s\n' "TLS bench $(date -u +%F) — $reps reps x ${duration}s, wrk -c50 on CPU 0, proxy + origin on CPU 1"
ratio_table test keepalive resumed full

#!/usr/bin/env bash
# HTTP/2 from clients (issue 12): meshgate against nginx and HAProxy in ONE run, h2c with prior knowledge on a
# plaintext listener, HTTP/1.1 keep-alive to the same origin, one worker each. Load from h2load (nghttp2-client):
#   1x1     one connection, one stream at a time
#   1x100   one connection, 100 concurrent streams
#   50x1    50 connections, one stream each
# → req/s and proxy CPU µs/request (schedstat), medians of the reps, ratios to nginx; each run on stderr.
# h2load on CPU 0, proxy and origin on CPU 1 (as bench/tls-bench.sh).
#
#   bench/h2-bench.sh                      # 3 reps x 10 s per target and shape
#   bench/h2-bench.sh --reps 1 --duration 5
#   bench/h2-bench.sh --tls                # h2 over TLS (ALPN) instead of h2c, same shapes
#   bench/h2-bench.sh --shapes 1x1 --reps 15   # only the shapes named (the noisiest one, with more reps)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
reps=3
duration=10
tls=0
shapes="1x1 1x100 50x1"
bench_args h2-bench.sh "$@"
for shape in $shapes; do
    [[ "$shape" =~ ^(1x1|1x100|50x1)$ ]] || { echo "h2-bench.sh: unknown shape $shape (1x1, 1x100, 50x1)" >&2; exit 2; }
done
bench_need "nginx haproxy h2load taskset" "nginx haproxy nghttp2-client"
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bin="${MESHGATE_BIN:-$root/.build/release/meshgate}"

bench_tmpdir meshgate-h2-bench
# TLS mode: one P-256 certificate for all three; h2 by ALPN.
bench_cert
h2load_tls=()
scheme=http nginx_listen="http2" haproxy_bind="proto h2" meshgate_tls=""
if ((tls)); then
    scheme=https
    nginx_listen="ssl http2"
    haproxy_bind="ssl crt $tmp/haproxy.pem alpn h2"
    # One TLS 1.3 suite for all three: h2load offers AES-128 first and nginx follows the client's order, while
    # HAProxy and meshgate follow their own (OpenSSL's, AES-256 first) — two ciphers in one comparison otherwise.
    h2load_tls=(--tls13-ciphers=TLS_AES_256_GCM_SHA384)
    meshgate_tls="\"tls\": { \"certificates\": [{ \"cert_file\": \"$tmp/cert.pem\", \"key_file\": \"$tmp/key.pem\" }], \"alpn\": [\"h2\"] },"
fi

bench_nginx_conf nginx "    http2_max_concurrent_streams 128;
    upstream origin { server 127.0.0.1:18080; keepalive 256; }
    server {
        listen 127.0.0.1:18480 $nginx_listen backlog=4096;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        # nginx 1.22's default stops at TLS 1.2 (1.3 joined the default in 1.23.4); HAProxy and meshgate
        # negotiate 1.3, so without this line nginx ran a different protocol and cipher than the other two.
        ssl_protocols TLSv1.2 TLSv1.3;
        $bench_proxy_location
    }"
cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 75s
    timeout server 75s
frontend fe
    bind 127.0.0.1:18481 $haproxy_bind
    default_backend origin
backend origin
    http-reuse always
    server s1 127.0.0.1:18080
EOF
cat >"$tmp/meshgate.json" <<EOF
{ "version": 1, "admin": null,
  "listeners": [{ "name": "bench", "address": "127.0.0.1:18482", $meshgate_tls
    "routes": [{ "match": { "path_prefix": "/" }, "upstream": "origin", "public": true }] }],
  "upstreams": { "origin": { "endpoints": ["127.0.0.1:18080"] } },
  "limits": { "idle_timeout_ms": 75000 },
  "logging": { "level": "warn", "access_log": false }, "watch_config": false }
EOF
bench_three_proxies 18480 18481 18482

# run <pid> <port> <clients> <streams>: prints "requests/s cpu_us_per_request"
run() {
    local pid="$1" port="$2" clients="$3" streams="$4" before after out done_
    before=$(runtime "$pid")
    out=$(taskset -c 0 h2load "${h2load_tls[@]}" -D "$duration" -c "$clients" -m "$streams" -t 1 "$scheme://127.0.0.1:$port/hello" 2>&1)
    after=$(runtime "$pid")
    done_=$(awk '/^requests:/ {print $8}' <<<"$out")
    local failed
    failed=$(awk '/^requests:/ {print $10}' <<<"$out")
    [[ "$failed" != "0" ]] && echo "  (port $port c$clients m$streams: $failed failed)" >&2
    rate_and_cpu "$done_" "$before" "$after" "$duration"
}

# What each proxy negotiated with h2load (TLS mode): the comparison only holds if all three say the same.
if ((tls)); then
    for port in 18480 18481 18482; do
        printf 'port %s: %s\n' "$port" "$(taskset -c 0 h2load "${h2load_tls[@]}" -n 1 -c 1 "https://127.0.0.1:$port/hello" 2>&1 |
            awk -F': ' '/^TLS Protocol:/ {p = $2} /^Cipher:/ {c = $2} /^Application protocol:/ {a = $2}
                END {print p, c, a}')"
    done
fi

declare -A results
# The three proxies run one shape back to back (seconds apart), then the next shape: this VM's speed drifts by
# 10-20% over minutes, and a target measured a minute after the others carried that drift into its ratio.
for rep in $(seq "$reps"); do
    for shape in $shapes; do
        c=${shape%x*} m=${shape#*x}
        for target in $(bench_order "$rep"); do
            bench_pick "$target" 18480 18481 18482
            r=$(run "$pid" "$port" "$c" "$m")
            # Each run on stderr as it ends: the spread between repetitions is part of the result on this VM.
            echo "rep $rep ${c}x$m $target $r" >&2
            results[$target,${c}x$m]+="$r;"
        done
    done
done

printf '%s\n' "$( ((tls)) && echo "h2 (TLS)" || echo h2c) bench $(date -u +%F) — $reps reps x ${duration}s, h2load on CPU 0, proxy + origin on CPU 1"
# shellcheck disable=SC2086
ratio_table shape $shapes

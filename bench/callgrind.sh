#!/usr/bin/env bash
# Instructions per proxied keep-alive /hello request, counted by callgrind (deterministic, unlike req/s on this VM):
# meshgate (this tree's release build, or the binaries given) and nginx as the proxy, one worker each, in front of
# the same origin. Each proxy runs under valgrind; 2,000 requests warm it up, the counters are dumped, then
# 10,000 requests (`ab -k -c 10`) and a second dump: its total over 10,000 is the figure.
#
#   bench/callgrind.sh                          # this tree's meshgate and nginx
#   bench/callgrind.sh /tmp/old-meshgate ...    # other meshgate binaries too, in the same run
#   bench/callgrind.sh --h2 [--streams N] ...   # h2c with prior knowledge instead: h2load -c 1 -m N (default 1),
#                                               # HTTP/1.1 keep-alive to the origin
#   bench/callgrind.sh --tls [--h2] ...         # over TLS 1.3 (one P-256 certificate, TLS_AES_256_GCM_SHA384 for
#                                               # both): h2 by ALPN with --h2, else HTTP/1.1 (h2load --h1 -c 10)
#   CALLGRIND_KEEP=/tmp/cg bench/callgrind.sh ... # keeps the counts (callgrind.<name>) for callgrind_annotate
set -euo pipefail
h2=0 streams=1 tls=0
while (($#)); do
    case "$1" in
    --h2) h2=1 ;;
    --tls) tls=1 ;;
    --streams) streams="$2"; shift ;;
    *) break ;;
    esac
    shift
done
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_need "valgrind callgrind_annotate ab nginx h2load" "valgrind apache2-utils nginx nghttp2-client"
bench_tmpdir meshgate-callgrind
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bench_origin
bench_wait_ports 18080

# load <port> <requests>
load() {
    if ((tls)); then
        # h2load's TLS 1.3 offer starts with AES-128, which nginx would follow and meshgate would not.
        local shape=(-c 1 -m "$streams")
        ((h2)) || shape=(--h1 -c 10)
        taskset -c 0 h2load --tls13-ciphers=TLS_AES_256_GCM_SHA384 "${shape[@]}" -n "$2" "https://127.0.0.1:$1/hello" >/dev/null
    elif ((h2)); then
        taskset -c 0 h2load -c 1 -m "$streams" -n "$2" "http://127.0.0.1:$1/hello" >/dev/null
    else
        taskset -c 0 ab -q -k -c 10 -n "$2" "http://127.0.0.1:$1/hello" >/dev/null
    fi
}

# measure <name> <port> <command...>: prints "<name> <instructions per request>".
measure() {
    local name="$1" port="$2" out pid total
    shift 2
    out="$tmp/callgrind.$name"
    bench_start "$tmp/$name.log" valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no "$@"
    pid=$started
    bench_wait_ports "$port"
    load "$port" 2000
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 2
    load "$port" 10000
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 2
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    # CALLGRIND_KEEP=<dir> keeps each proxy's counts over the measured requests for callgrind_annotate.
    if [[ -n "${CALLGRIND_KEEP:-}" ]]; then cp "$out.2" "$CALLGRIND_KEEP/callgrind.$name"; fi
    total=$(callgrind_annotate "$out.2" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    echo "$name $((total / 10000))"
}

# meshgate's plaintext listener takes h2c by its preface: the same config serves both modes.
config="$here/meshgate.json" listen="" ssl=""
((h2)) && listen="http2"
if ((tls)); then
    bench_cert
    alpn='"http/1.1"'
    ((h2)) && alpn='"h2"'
    listen="ssl $listen"
    # nginx 1.22 stops at TLS 1.2 by default; meshgate negotiates 1.3.
    ssl="ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem; ssl_protocols TLSv1.2 TLSv1.3;"
    config="$tmp/meshgate-tls.json"
    # bench/meshgate.json with the listener's TLS.
    cat >"$config" <<EOF
{ "version": 1, "admin": null,
  "listeners": [{ "name": "bench", "address": "127.0.0.1:18090",
    "tls": { "certificates": [{ "cert_file": "$tmp/cert.pem", "key_file": "$tmp/key.pem" }], "alpn": [$alpn] },
    "routes": [{ "name": "all", "match": { "path_prefix": "/" }, "upstream": "origin", "retry": { "retries": 0 } }] }],
  "upstreams": {
    "origin": { "endpoints": ["127.0.0.1:18080"], "pool": { "max_connections": 1024, "max_idle": 256, "idle_timeout_ms": 75000 } } },
  "limits": { "idle_timeout_ms": 75000 },
  "logging": { "level": "info", "access_log": false } }
EOF
fi
bench_nginx_conf nginx "    http2_max_concurrent_streams 128;
    upstream origin { server 127.0.0.1:18080; keepalive 256; }
    server { listen 127.0.0.1:18081 $listen backlog=4096; $ssl $bench_proxy_location }"
if ((tls)); then
    echo "target instructions/request (10,000 /hello over TLS 1.3, $( ((h2)) && echo "h2, h2load -c 1 -m $streams" || echo "HTTP/1.1, h2load --h1 -c 10"))"
elif ((h2)); then
    echo "target instructions/request (10,000 h2c /hello, h2load -c 1 -m $streams)"
else
    echo "target instructions/request (10,000 keep-alive /hello, ab -k -c 10)"
fi
measure nginx 18081 nginx -p "$tmp" -c "$tmp/nginx.conf" -g "daemon off; master_process off;"
measure meshgate 18090 "$root/.build/release/meshgate" run --config "$config" --workers 1
n=0
for other in "$@"; do
    n=$((n + 1))
    # The name must be a file name (the log and the counts are named after it): the binary is said apart.
    echo "meshgate-$n = $other"
    measure "meshgate-$n" 18090 "$other" run --config "$config" --workers 1
done

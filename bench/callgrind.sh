#!/usr/bin/env bash
# Instructions per proxied keep-alive /hello request, counted by callgrind (deterministic, unlike req/s on this VM):
# meshgate (this tree's release build, or the binaries given) and nginx as the proxy, one worker each, in front of
# the same origin. Each proxy runs under valgrind; 2,000 requests warm it up, the counters are dumped, then
# 10,000 requests (`ab -k -c 10`) and a second dump: its total over 10,000 is the figure.
#
#   bench/callgrind.sh                          # this tree's meshgate and nginx
#   bench/callgrind.sh /tmp/old-meshgate ...    # other meshgate binaries too, in the same run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_need "valgrind callgrind_annotate ab nginx" "valgrind apache2-utils nginx"
bench_tmpdir meshgate-callgrind
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bench_origin
bench_wait_ports 18080

# measure <name> <port> <command...>: prints "<name> <instructions per request>".
measure() {
    local name="$1" port="$2" out pid total
    shift 2
    out="$tmp/callgrind.$name"
    bench_start "$tmp/$name.log" valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no "$@"
    pid=$started
    bench_wait_ports "$port"
    taskset -c 0 ab -q -k -c 10 -n 2000 "http://127.0.0.1:$port/hello" >/dev/null
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 2
    taskset -c 0 ab -q -k -c 10 -n 10000 "http://127.0.0.1:$port/hello" >/dev/null
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 2
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    total=$(callgrind_annotate "$out.2" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    echo "$name $((total / 10000))"
}

bench_nginx_conf nginx "    upstream origin { server 127.0.0.1:18080; keepalive 256; }
    server { listen 127.0.0.1:18081 backlog=4096; $bench_proxy_location }"
echo "target instructions/request (10,000 keep-alive /hello, ab -k -c 10)"
measure nginx 18081 nginx -p "$tmp" -c "$tmp/nginx.conf" -g "daemon off; master_process off;"
measure meshgate 18090 "$root/.build/release/meshgate" run --config "$here/meshgate.json" --workers 1
n=0
for other in "$@"; do
    n=$((n + 1))
    measure "meshgate-$n($other)" 18090 "$other" run --config "$here/meshgate.json" --workers 1
done

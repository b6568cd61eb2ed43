#!/usr/bin/env bash
# Routing cost against the number of routes (issue 17), in ONE run of the reference harness on the same origin:
#   routes-1        one catch-all `path_prefix: "/"` route
#   routes-10001    10,000 routes before that same catch-all — `path_prefix` /p0…/p3332, `path` /e0…/e3332 and
#                   `path_template` /t{n}/{id}/x — none of which matches /hello, so a linear first-match scan
#                   would try all 10,000 on every request
# Both are one-worker meshgates pinned to the proxy CPU, as bench/run-meshgate.sh starts them; nginx runs too, for
# the usual ratio column. The figure that matters is routes-10001 ÷ routes-1 (req/s and CPU per request).
#
#   bench/routes-bench.sh                              # hello_c50 and hello_c1, 3 reps x 10 s
#   bench/routes-bench.sh --reps 5 --duration 8
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
bench_need "nginx haproxy wrk ab taskset" "nginx haproxy wrk apache2-utils"
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bin="${MESHGATE_BIN:-$root/.build/release/meshgate}"

bench_tmpdir meshgate-routes-bench
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
catch_all = {"name": "all", "match": {"path_prefix": "/"}, "upstream": "origin", "public": True,
             "retry": {"retries": 0}}
many = []
for n in range(10_000):
    kind = n % 3
    match = ({"path_prefix": f"/p{n}"} if kind == 0 else
             {"path": f"/e{n}"} if kind == 1 else
             {"path_template": f"/t{n}/{{id}}/x"})
    many.append({"name": f"r{n}", "match": match, "upstream": "origin", "public": True, "retry": {"retries": 0}})
for port, routes in ((18090, [catch_all]), (18094, many + [catch_all])):
    json.dump({
        "version": 1, "admin": None,
        "listeners": [{"name": "bench", "address": f"127.0.0.1:{port}", "routes": routes}],
        "upstreams": {"origin": {"endpoints": ["127.0.0.1:18080"],
                                 "pool": {"max_connections": 1024, "max_idle": 256, "idle_timeout_ms": 75000}}},
        "limits": {"idle_timeout_ms": 75000},
        "logging": {"level": "warn", "access_log": False},
        "watch_config": False,
    }, open(f"{tmp}/meshgate-{port}.json", "w"))
PY

bench_start "$tmp/routes-1.out" "$bin" run --config "$tmp/meshgate-18090.json" --workers 1
bench_start "$tmp/routes-10001.out" "$bin" run --config "$tmp/meshgate-18094.json" --workers 1
bench_wait_ports 18090 18094
"$here/run.sh" --proxies nginx \
    --target "routes-1=http://127.0.0.1:18090" --pid "${pids[0]}" \
    --target "routes-10001=http://127.0.0.1:18094" --pid "${pids[1]}" \
    --tests hello_c50,hello_c1 "$@"

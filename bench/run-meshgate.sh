#!/usr/bin/env bash
# meshgate against nginx and HAProxy in ONE run of the reference harness, on the same nginx origin:
#   meshgate       meshgate, one worker, a public route, access log off (metrics are always on)
#   meshgate-jwt   the same process, a route that validates an ES256 JWT (cached per worker) and maps sub
#   meshgate-logs  a second meshgate with JSON access logs on (written to a file)
# Every target gets the same `Authorization: Bearer <ES256 token>` header, so the bytes on the wire match.
#
#   bench/run-meshgate.sh                              # hello_c50, hello_c1, big_c50; 3 reps x 10 s (~12 min)
#   bench/run-meshgate.sh --reps 1 --duration 5        # a quick look
#   bench/run-meshgate.sh --mode strace --tests hello_c50   # syscalls per request (ab -c 1 and -c 10)
# Needs: Debian's nginx haproxy wrk apache2-utils strace (installed if missing), python3 with joserfc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
bench_need "nginx haproxy wrk ab strace taskset" "nginx haproxy wrk apache2-utils strace"
python3 -c 'import joserfc' 2>/dev/null || python3 -m pip install -q joserfc
(cd "$root" && swift build -c release --product meshgate >/dev/null)
bin="$root/.build/release/meshgate"

bench_tmpdir meshgate-bench

python3 - "$tmp" <<'PY'
import json, sys, time
from joserfc import jwt
from joserfc.jwk import ECKey
tmp = sys.argv[1]
key = ECKey.generate_key("P-256", parameters={"kid": "bench"})
json.dump({"keys": [key.as_dict(private=False)]}, open(f"{tmp}/jwks.json", "w"))
now = int(time.time())
claims = {"iss": "bench", "aud": "meshgate", "sub": "bench-user", "iat": now, "exp": now + 86400, "scope": "read"}
open(f"{tmp}/token", "w").write(jwt.encode({"alg": "ES256", "kid": "bench"}, claims, key))
for port, logs in ((18090, False), (18092, True)):
    json.dump({
        "version": 1, "admin": None,
        "listeners": [{"name": "bench", "address": f"127.0.0.1:{port}", "routes": [
            {"name": "jwt", "match": {"path_prefix": "/jwt"}, "upstream": "origin", "rewrite": {"strip_prefix": "/jwt"},
             "jwt": {"provider": "bench", "claims_to_headers": {"sub": "x-user-id"}}, "retry": {"retries": 0}},
            {"name": "open", "match": {"path_prefix": "/"}, "upstream": "origin", "public": True,
             "retry": {"retries": 0}}]}],
        "upstreams": {"origin": {"endpoints": ["127.0.0.1:18080"],
                                 "pool": {"max_connections": 1024, "max_idle": 256, "idle_timeout_ms": 75000}}},
        "jwt_providers": {"bench": {"issuer": "bench", "audiences": ["meshgate"], "algorithms": ["ES256"],
                                    "jwks": {"file": f"{tmp}/jwks.json"}}},
        "limits": {"idle_timeout_ms": 75000},
        "logging": {"level": "info", "access_log": logs},
        "watch_config": False,
    }, open(f"{tmp}/meshgate-{port}.json", "w"))
PY

# Started like the harness starts its servers: pinned to the proxy CPU and in a session of their own (with
# autogroup scheduling, a server left in this script's session shares a scheduling group with it and the
# origin's CPU per request measurably changes).
bench_start "$tmp/meshgate.out" "$bin" run --config "$tmp/meshgate-18090.json" --workers 1
bench_start "$tmp/meshgate-logs.out" "$bin" run --config "$tmp/meshgate-18092.json" --workers 1
bench_wait_ports 18090 18092
export BENCH_AUTH="Bearer $(cat "$tmp/token")"
"$here/run.sh" --proxies nginx,haproxy \
    --target "meshgate=http://127.0.0.1:18090" --pid "${pids[0]}" \
    --target "meshgate-jwt=http://127.0.0.1:18090/jwt" --pid "${pids[0]}" \
    --target "meshgate-logs=http://127.0.0.1:18092" --pid "${pids[1]}" \
    "$@"

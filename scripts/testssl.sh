#!/usr/bin/env bash
# Runs testssl.sh (Debian's package) against a meshgate TLS listener with the default settings (issue 11) and
# fails when any finding is rated HIGH or CRITICAL. The certificate is what production would serve: issued by
# a CA (passed to testssl with --add-ca), valid for 397 days, with CRL and OCSP URIs, so that what is judged
# is meshgate's TLS, not a test certificate's shortcomings. Takes 2–4 minutes.
#
#   scripts/testssl.sh            # prints the summary of findings by severity and every LOW-or-worse one
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v testssl >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh
}
(cd "$root" && swift build --product meshgate >/dev/null)
tmp="$(mktemp -d /tmp/meshgate-testssl.XXXX)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 400 \
    -subj "/CN=testssl CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out leaf.csr \
    -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" "crlDistributionPoints=URI:http://ca.example/crl" \
    "authorityInfoAccess=OCSP;URI:http://ocsp.example" >leaf.ext
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 397 -extfile leaf.ext \
    -out cert.pem 2>/dev/null
port=$((20000 + RANDOM % 10000))
cat >config.json <<EOF
{ "version": 1, "admin": null,
  "listeners": [{ "name": "tls", "address": "127.0.0.1:$port",
    "tls": { "certificates": [{ "cert_file": "$tmp/cert.pem", "key_file": "$tmp/key.pem" }] },
    "routes": [{ "match": { "path_prefix": "/" }, "upstream": "app", "public": true }] }],
  "upstreams": { "app": { "endpoints": ["127.0.0.1:9"] } }, "watch_config": false }
EOF
"$root/.build/debug/meshgate" run --config config.json >meshgate.log 2>&1 &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
testssl --quiet --color 0 --warnings batch --add-ca "$tmp/ca.crt" --jsonfile "$tmp/findings.json" \
    "127.0.0.1:$port" >testssl.txt 2>&1 || true
python3 - "$tmp/findings.json" <<'PY'
import collections, json, sys
findings = json.load(open(sys.argv[1]))
print("testssl.sh findings by severity:", dict(collections.Counter(f["severity"] for f in findings)))
bad = 0
for f in findings:
    if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN"):
        print(f"  {f['severity']:8} {f['id']}: {f['finding'][:120]}")
    bad += f["severity"] in ("HIGH", "CRITICAL")
sys.exit(1 if bad else 0)
PY

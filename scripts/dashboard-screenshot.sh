#!/usr/bin/env bash
# Renders meshgate's admin dashboard (GET / on the admin listener, SPEC §6) to a PNG with headless Chromium,
# under real load, as a user sees it. Not run in CI.
#
# Starts, all on 127.0.0.1 and free ports: a throwaway upstream (python3 http.server), a gateway with three
# routes (one proxied, one whose upstream refuses connections and answers from its fallback, and requests that
# match no route), and a bounded load loop of curl requests (successes, upstream 404s, fallbacks, no-route
# 404s). Chromium opens the dashboard and is left to poll for a few seconds of real time; then the screenshot
# is taken over the DevTools protocol. (`--screenshot` alone captures at page load, before the page has two
# polls to compute rates from; `--virtual-time-budget` runs the page clock ahead of the real traffic, so every
# rate read 0.0.)
#
# usage: scripts/dashboard-screenshot.sh [OUT.png]   (default docs/dashboard.png; needs chromium, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-docs/dashboard.png}"
wait_seconds="${DASHBOARD_WAIT_SECONDS:-7}"

chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$chromium" ]]; then
    echo "dashboard-screenshot: Chromium not found (apt-get install -y chromium)" >&2
    exit 2
fi

bin="${MESHGATE_BIN:-}" # a meshgate binary to use instead of building one
if [[ -z "$bin" ]]; then
    swift build -c release --product meshgate >/dev/null
    bin="$(swift build -c release --show-bin-path)/meshgate"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
upstream_port="$(free_port)"
refused_port="$(free_port)" # nothing listens here: the "avatar" route is answered by its fallback
listener="127.0.0.1:$(free_port)"
admin="127.0.0.1:$(free_port)"

cat >"$work/routes.json" <<EOF
{
  "version": 1,
  "admin": { "address": "$admin" },
  "listeners": [
    { "name": "edge", "address": "$listener", "routes": [
      { "name": "api", "match": { "path_prefix": "/api" }, "upstream": "app",
        "rewrite": { "strip_prefix": "/api" } },
      { "name": "avatar", "match": { "path_prefix": "/avatar" }, "upstream": "images",
        "retry": { "retries": 0 },
        "fallback": { "status": 200, "headers": { "content-type": "application/json" },
                      "body": "{\"avatar\":\"/static/default.png\"}", "on": ["connect-failure", "circuit-open"] } }
    ] }
  ],
  "upstreams": {
    "app": { "endpoints": ["127.0.0.1:$upstream_port"] },
    "images": { "endpoints": ["127.0.0.1:$refused_port"] }
  },
  "logging": { "level": "warn", "access_log": false },
  "watch_config": false
}
EOF

mkdir "$work/www"
echo '{"id":1,"name":"ada"}' >"$work/www/user"
python3 -m http.server "$upstream_port" --bind 127.0.0.1 --directory "$work/www" >"$work/upstream.log" 2>&1 &
pids+=($!)
"$bin" run --config "$work/routes.json" --workers 2 >"$work/gateway.log" 2>&1 &
pids+=($!)

# Wait (bounded) for the admin listener and the upstream instead of sleeping a fixed time; traffic before the
# upstream listens would open its breaker (that is the breaker's job).
ready() { curl -fsS -o /dev/null "$1" 2>/dev/null; }
for _ in $(seq 1 100); do
    if ready "http://$admin/healthz" && ready "http://127.0.0.1:$upstream_port/user"; then break; fi
    sleep 0.1
done
if ! ready "http://$admin/readyz"; then
    echo "dashboard-screenshot: gateway not ready at $admin" >&2
    tail -n 20 "$work/gateway.log" >&2 || true
    exit 1
fi

# Load for the whole capture, bounded in rate (~100 requests/s on one keep-alive connection per round) and in
# time: per round 3 successes, 1 upstream 404, 1 fallback, 1 request that matches no route.
load_rounds=$(((wait_seconds + 10) * 16))
(
    for _ in $(seq 1 "$load_rounds"); do
        curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
            "http://$listener/api/user" "http://$listener/api/user" "http://$listener/api/user" \
            "http://$listener/api/missing" "http://$listener/avatar/7" "http://$listener/wp-login.php" || true
        sleep 0.05
    done
) &
pids+=($!)
sleep 2 # a few rounds before the first poll, so the first rates are already under load

"$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,560 \
    --user-data-dir="$work/chrome" --remote-debugging-port=0 "http://$admin/" >"$work/chrome.log" 2>&1 &
pids+=($!)

# The page polls every 2 s and computes rates from the delta between two polls: after `wait_seconds` of real
# time it has several. Then capture over DevTools (a minimal stdlib WebSocket client: no packages needed).
sleep "$wait_seconds"
python3 - "$work/chrome/DevToolsActivePort" "$out" <<'PY'
import base64, json, os, socket, struct, sys, time, urllib.request

port_file, out = sys.argv[1], sys.argv[2]
for _ in range(100):
    if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
        break
    time.sleep(0.1)
port = int(open(port_file).read().split()[0])
pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
page = next(p for p in pages if p["type"] == "page")
path = page["webSocketDebuggerUrl"].split(str(port), 1)[1]

sock = socket.create_connection(("127.0.0.1", port), timeout=20)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    head += sock.recv(1)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit(f"dashboard-screenshot: DevTools refused the WebSocket: {head!r}")

def exact(n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit("dashboard-screenshot: DevTools closed the connection")
        data += chunk
    return data

def send(message):
    payload = json.dumps(message).encode()
    mask = os.urandom(4)
    length = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack(">H", length))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

def receive():
    message = b""
    while True:
        first, second = exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", exact(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", exact(8))[0]
        message += exact(length)
        if first & 0x80:
            return json.loads(message)

send({"id": 1, "method": "Page.captureScreenshot", "params": {"format": "png"}})
while True:
    answer = receive()
    if answer.get("id") == 1:
        break
if "result" not in answer:
    sys.exit(f"dashboard-screenshot: capture failed: {answer}")
with open(out, "wb") as f:
    f.write(base64.b64decode(answer["result"]["data"]))
PY
echo "dashboard-screenshot: wrote $out after ${wait_seconds} s of real time under load"
curl -s "http://$admin/metrics" | grep -E '^(http_requests_total|meshgate_fallbacks_total)' | grep -v ' 0$' || true

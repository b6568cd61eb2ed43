#!/usr/bin/env bash
# Renders meshgate's admin dashboard (GET / on the admin listener, SPEC §6) to a PNG with headless Chromium.
# Not run in CI. Starts a throwaway upstream (python3 http.server on 127.0.0.1:3000, the endpoint of
# examples/minimal.json), `meshgate run --config examples/minimal.json`, sends traffic so the rates move, and
# screenshots http://127.0.0.1:9901/ (the default admin address; override with MESHGATE_ADMIN).
#
# usage: scripts/dashboard-screenshot.sh [OUT.png]        (needs: apt-get install chromium, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-dashboard.png}"
admin="${MESHGATE_ADMIN:-127.0.0.1:9901}"
listener="127.0.0.1:8080"
config="examples/minimal.json"

chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$chromium" ]]; then
    echo "dashboard-screenshot: Chromium not found (apt-get install chromium)" >&2
    exit 2
fi

swift build --product meshgate >/dev/null
bin="$(swift build --show-bin-path)/meshgate"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "hello from the upstream" >"$work/index.html"
python3 -m http.server 3000 --bind 127.0.0.1 --directory "$work" >"$work/upstream.log" 2>&1 &
pids+=($!)
"$bin" run --config "$config" --workers 2 >"$work/gateway.log" 2>&1 &
pids+=($!)

# Wait (bounded) for the admin listener instead of sleeping a fixed time.
for _ in $(seq 1 100); do
    if curl -fsS "http://$admin/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.1
done
if ! curl -fsS "http://$admin/healthz" >/dev/null 2>&1; then
    echo "dashboard-screenshot: no admin listener at $admin (is it wired into 'meshgate run'?)" >&2
    echo "--- gateway log:" >&2
    tail -n 20 "$work/gateway.log" >&2 || true
    exit 1
fi

# The upstream too: traffic before it listens would open the endpoint's breaker (that is the breaker's job).
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:3000/" >/dev/null 2>&1; then break; fi
    sleep 0.1
done

# Background traffic for the whole capture: successes and some 404s, so both rates are non-zero.
(
    while true; do
        curl -s -o /dev/null "http://$listener/" || true
        curl -s -o /dev/null "http://$listener/index.html?access_token=never-logged" || true
        sleep 0.02
    done
) &
pids+=($!)
sleep 1

# The page polls every 2 s and computes rates from deltas: give it two polls of (virtual) time.
"$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
    --virtual-time-budget=6000 --screenshot="$out" "http://$admin/" >/dev/null 2>&1
echo "dashboard-screenshot: wrote $out"

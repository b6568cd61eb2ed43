#!/usr/bin/env bash
# Builds the package with a sanitizer and runs the tests that exercise it (issue 10):
#   scripts/sanitize.sh address   integration, operations and control-plane tests under AddressSanitizer
#   scripts/sanitize.sh thread    the threaded parts (workers, control plane, shared breakers, metrics) under TSan
# Each kind has its own scratch path (.build-asan, .build-tsan), so the plain .build stays as it is.
# The gateway the tests spawn is the sanitized binary of the same build (MESHGATE_BINARY), and every process
# writes its reports to files (log_path), so a report from a child gateway fails the run even when the test
# that spawned it passed. Exits non-zero on a failed build, a failed test or any sanitizer report.
set -euo pipefail
kind="${1:?usage: scripts/sanitize.sh address|thread}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
case "$kind" in
address)
    scratch=.build-asan
    # Every suite that spawns the gateway (reload, drain, sidecar) or runs the control plane: ~1 min.
    filters=(IntegrationTests OperationsTests ControlPlaneTests)
    ;;
thread)
    scratch=.build-tsan
    # Every lock is MeshSync.Locked (a pthread mutex TSan sees), so no report is a known false alarm.
    # MeshRateLimitTests: the lock-free rate-limit store and concurrency caps (8 threads on one key), ~12 s.
    filters=(
        'IntegrationTests\.ConcurrencyTests' ControlPlaneTests MeshResilienceTests MeshMetricsTests ObservabilityTests
        OperationsTests MeshRateLimitTests
    )
    ;;
*)
    echo "usage: scripts/sanitize.sh address|thread" >&2
    exit 2
    ;;
esac
logs="$root/$scratch/sanitizer-logs"
export SWIFT_BACKTRACE=enable=no
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
rm -rf "$logs"
mkdir -p "$logs"
# Leak checking is off: the gateway's workers and the test runner's threads are still alive at exit by design,
# and what they hold would be reported as leaks. Memory errors still abort the process (halt_on_error).
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=1"
# Report every race and keep going, so one run lists them all; the log files decide the outcome.
export TSAN_OPTIONS="log_path=$logs/tsan:halt_on_error=0:second_deadlock_stack=1:history_size=4"
export MESHGATE_BINARY="$root/$scratch/debug/meshgate"
filter_args=()
for f in "${filters[@]}"; do filter_args+=(--filter "$f"); done
status=0
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "${filter_args[@]}" || status=$?
reports=$(find "$logs" -type f -size +0 | sort)
if [[ -n "$reports" ]]; then
    echo "sanitize: $kind reports in $logs:" >&2
    for r in $reports; do
        echo "---- $r" >&2
        head -n 60 "$r" >&2
    done
    status=1
fi
((status == 0)) && echo "sanitize: $kind clean"
exit $status

#!/usr/bin/env bash
# Fuzzes the MeshHTTP1 codec with libFuzzer + AddressSanitizer.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60). Exits non-zero when the fuzzer finds a crash;
# crash inputs land in fuzz-artifacts/. New corpus entries go to .build/fuzz/corpus (the seeds stay untouched).
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=".build/fuzz"
# A trap must end the run at once; the Swift backtracer would otherwise hold the terminal for a long time.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$out/corpus" fuzz-artifacts
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MeshHTTP1Fuzz \
    Fuzz/HTTP1Fuzz.swift Sources/MeshHTTP1/*.swift -o "$out/http1-fuzz"
# The first corpus directory receives new inputs; the committed seeds are read only.
"$out/http1-fuzz" "$out/corpus" Fuzz/corpus \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=fuzz-artifacts/

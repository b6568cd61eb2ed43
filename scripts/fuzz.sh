#!/usr/bin/env bash
# Builds and runs meshgate's libFuzzer targets (Fuzz/*Fuzz.swift) with AddressSanitizer.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60); TARGET one of: http1 http2 request-head jwt config protobuf (default: all).
#   FUZZ_BUILD_ONLY=1   build the targets, run nothing.
#   FUZZ_RUNS=N         run each target for N executions instead of SECONDS (for long runs).
# Exits non-zero when a target fails to build or any fuzzer finds a crash/invariant violation; crash inputs land
# in fuzz-artifacts/<target>/. New corpus entries go to .build/fuzz/corpus/<target> (committed seeds stay
# untouched in Fuzz/corpus/<target>).
#
# The library modules are compiled one by one with swiftc (SwiftPM cannot add -sanitize=fuzzer to one
# product without a guarded target in Package.swift): each module gets libFuzzer coverage and ASan, and is
# rebuilt only when one of its sources (or a dependency) changed. MODULES must follow Package.swift's graph.
# Leak detection is off: Swift keeps enum tags in a pointer's spare bits (e.g. JWK.Material), so LeakSanitizer
# cannot see those references and reports live globals as leaked.
set -euo pipefail
seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=".build/fuzz"
mods="$out/modules"
# A trap must end the run at once; the Swift backtracer would otherwise hold the terminal for a long time.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
mkdir -p "$mods" "$out/corpus"

# module:dependencies (dependency order). MeshCrypto reaches libcrypto through Sources/CCrypto's module map.
MODULES=(
    "MeshSync:" "MeshHTTP1:" "MeshHTTP2:" "MeshJSON:" "MeshTrace:" "MeshMetrics:MeshSync" "MeshResilience:MeshSync" "MeshRateLimit:MeshSync" "MeshCrypto:"
    "MeshLog:MeshJSON MeshSync" "MeshProtobuf:MeshJSON" "MeshTranscode:MeshProtobuf MeshJSON"
    "MeshConfig:MeshJSON MeshProtobuf MeshTranscode" "MeshJWT:MeshCrypto MeshJSON MeshSync"
    "MeshProxy:MeshHTTP1 MeshConfig MeshJWT MeshTrace MeshMetrics MeshLog MeshResilience MeshRateLimit"
)
# target:main file:modules it links (the module's objects, all dependencies included)
TARGETS=(
    "http1:HTTP1Fuzz.swift:MeshHTTP1"
    "http2:HTTP2Fuzz.swift:MeshHTTP2"
    "request-head:RequestHeadFuzz.swift:MeshSync MeshHTTP1 MeshJSON MeshTrace MeshMetrics MeshResilience MeshRateLimit MeshCrypto MeshLog MeshProtobuf MeshTranscode MeshConfig MeshJWT MeshProxy"
    "jwt:JWTFuzz.swift:MeshSync MeshJSON MeshCrypto MeshJWT"
    "config:ConfigFuzz.swift:MeshJSON MeshProtobuf MeshTranscode MeshConfig"
    "protobuf:ProtobufFuzz.swift:MeshJSON MeshProtobuf"
)
FLAGS=(-sanitize=fuzzer,address -O -g -parse-as-library -enable-testing -I "$mods" -I Sources/CCrypto)

build_module() { # name deps
    local name="$1" deps="$2" obj="$mods/$1.o" stale=0
    [[ -f "$obj" ]] || stale=1
    if ((!stale)) && [[ -n "$(find "Sources/$name" -newer "$obj" -print -quit)" ]]; then stale=1; fi
    for dep in $deps; do [[ "$mods/$dep.o" -nt "$obj" ]] && stale=1; done
    ((stale)) || return 0
    echo "fuzz: compiling $name"
    swiftc "${FLAGS[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$mods/$name.swiftmodule" \
        -c Sources/"$name"/*.swift -o "$obj"
    # swiftc leaves an unchanged object file alone; the timestamp is what the staleness check reads.
    touch "$obj"
}

build_target() { # name main modules
    local name="$1" main="$2" objs=()
    for m in $3; do objs+=("$mods/$m.o"); done
    echo "fuzz: linking $name"
    # gold warns once per ASan register helper ("Cannot export local symbol"); harmless, and it buries errors.
    swiftc "${FLAGS[@]}" -module-name "FuzzMain" "Fuzz/$main" Fuzz/Common/*.swift "${objs[@]}" -lcrypto \
        -o "$out/$name-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)
}

# Objects built with other flags are stale: the flags are kept beside them.
if [[ "$(cat "$mods/flags" 2>/dev/null)" != "${FLAGS[*]}" ]]; then
    rm -f "$mods"/*.o
    echo "${FLAGS[*]}" >"$mods/flags"
fi
for entry in "${MODULES[@]}"; do build_module "${entry%%:*}" "${entry#*:}"; done
selected=("$@")
status=0
for entry in "${TARGETS[@]}"; do
    IFS=: read -r name main modules <<<"$entry"
    if ((${#selected[@]})) && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
    build_target "$name" "$main" "$modules"
    [[ "${FUZZ_BUILD_ONLY:-0}" == 1 ]] && continue
    mkdir -p "$out/corpus/$name" "Fuzz/corpus/$name" "fuzz-artifacts/$name"
    budget=(-max_total_time="$seconds")
    [[ -n "${FUZZ_RUNS:-}" ]] && budget=(-runs="$FUZZ_RUNS")
    [[ -f "Fuzz/dict/$name.dict" ]] && budget+=(-dict="Fuzz/dict/$name.dict")
    echo "fuzz: running $name (${FUZZ_RUNS:-$seconds s})"
    # The first corpus directory receives new inputs; the committed seeds are read only.
    rc=0
    "$out/$name-fuzz" "$out/corpus/$name" "Fuzz/corpus/$name" "${budget[@]}" -max_len=4096 -timeout=10 \
        -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="fuzz-artifacts/$name/" >"$out/$name.log" 2>&1 || rc=$?
    grep -E '^(#[0-9]+ +DONE|==[0-9]+==ERROR|.*Fatal error|SUMMARY|stat::number_of_executed_units|stat::peak_rss)' \
        "$out/$name.log" || true
    if ((rc != 0)); then
        tail -n 40 "$out/$name.log" >&2
        echo "fuzz: $name FAILED (exit $rc; log: $out/$name.log, input: fuzz-artifacts/$name/)" >&2
        status=1
    fi
done
exit $status

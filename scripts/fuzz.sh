#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for a bounded time.
#   scripts/fuzz.sh [seconds-per-target]   (default 60)
# Findings (crash-*, leak-*, timeout-*) land in build-fuzz/findings/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
build="$root/build-fuzz"

# The libraries get ASan/UBSan and coverage instrumentation too (not the fuzzer main), so
# that the code under test is what the sanitizers watch.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTEDUH_FUZZ=ON -DTEDUH_BUILD_BENCH=OFF -DTEDUH_BUILD_TESTS=ON \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
cmake --build "$build" --target fuzz_wire -j "${TEDUH_JOBS:-2}"

corpus="$build/corpus/wire"
mkdir -p "$corpus" "$build/findings"
cp -n "$root"/tests/fuzz/corpus/wire/* "$corpus"/ 2>/dev/null || true
"$build/tests/fuzz/fuzz_wire" "$corpus" \
  -max_total_time="$seconds" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/findings/" -print_final_stats=1

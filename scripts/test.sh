#!/usr/bin/env bash
# Installs what Teduh needs, builds it, and runs the whole test suite with ctest.
#   scripts/test.sh              release build in build/
#   scripts/test.sh --sanitize   ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build_dir=build
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  extra=(-DTEDUH_SANITIZE=ON -DTEDUH_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

cmake -S . -B "$build_dir" -G Ninja "${extra[@]}" >/dev/null
cmake --build "$build_dir" --parallel 2
# Tests create stores with the cheap Argon2id cost so the suite stays fast; the marker
# TEDUH_TEST_STORES=1 says these are test stores (without it the cheap cost is refused).
export TEDUH_KDF=interactive TEDUH_TEST_STORES=1
ctest --test-dir "$build_dir" --output-on-failure --parallel 2 --timeout 900

#!/usr/bin/env bash
# clang-tidy over the libraries and programs (not tests, benchmarks or fuzz targets), with
# the checks of .clang-tidy; any finding fails. Needs a configured build dir with
# compile_commands.json (scripts/test.sh makes build/).
#   scripts/tidy.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
root=$(pwd)
[ -f "$build_dir/compile_commands.json" ] || { echo "tidy: no $build_dir/compile_commands.json; run scripts/test.sh first" >&2; exit 1; }
files=$(cd "$root" && git ls-files 'common/*.cpp' 'crypto/src/*.cpp' 'schema/src/*.cpp' 'sync-protocol/src/*.cpp' \
  'client/src/*.cpp' 'client/src/**/*.cpp' 'server/src/*.cpp' 'client/main.cpp' 'server/main.cpp' | sort -u)
# run-clang-tidy takes regexes; anchor each file so only these run.
regex=$(printf '%s\n' $files | sed "s|^|^$root/|; s|\$|\$|; s|\.|\\\\.|g" | paste -sd'|')
log=$(mktemp)
# run-clang-tidy 14 has no -warnings-as-errors: any "warning:" or "error:" line fails.
command -v run-clang-tidy >/dev/null || { echo "tidy: run-clang-tidy is missing (apt-get install clang-tidy)" >&2; exit 1; }
rc=0
# Boost 1.74's Asio enables co_await for clang only with the Coroutines TS; clang 14 has
# C++20 coroutines and libstdc++'s <coroutine>, so serve.cpp is analysed as g++ builds it
# (without the define clang-tidy fails to parse it and then crashes).
nice run-clang-tidy -p "$build_dir" -quiet -j "${TIDY_JOBS:-$(nproc)}" -extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 \
  -header-filter="^$root/(common|crypto|schema|sync-protocol|client|server)/" "$regex" >"$log" 2>&1 || rc=$?
# Everything goes to stdout (CI shows it), and a grep that finds nothing must not end the
# script before it says why it failed (pipefail: the CI run of 2026-12-07 failed silently).
if [ "$rc" -ne 0 ] || grep -qE "(warning|error):" "$log"; then
  grep -E "(warning|error):" "$log" | sort -u || true
  if [ "$rc" -ne 0 ]; then
    echo "tidy: run-clang-tidy exited with $rc; the end of its output:"
    tail -40 "$log"
  fi
  echo "tidy: clang-tidy found the problems above (checks: .clang-tidy)"
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "tidy: clang-tidy clean over $(printf '%s\n' $files | wc -l) files"

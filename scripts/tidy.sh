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
nice run-clang-tidy -p "$build_dir" -quiet -j "${TIDY_JOBS:-$(nproc)}" \
  -header-filter="^$root/(common|crypto|schema|sync-protocol|client|server)/" "$regex" >"$log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || grep -qE "(warning|error):" "$log"; then
  grep -E "(warning|error):" "$log" | sort -u
  [ "$rc" -eq 0 ] || tail -20 "$log"
  echo "tidy: clang-tidy found the problems above (checks: .clang-tidy)" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "tidy: clang-tidy clean over $(printf '%s\n' $files | wc -l) files"

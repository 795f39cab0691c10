#!/usr/bin/env bash
# Runs the chaos harness on demand (tests/chaos/chaos_test.cpp) from an existing build.
#   scripts/chaos.sh [seeds] [build-dir]      defaults: 100 seeds, build/
# Environment passed through: TEDUH_CHAOS_OPS (operations per seed, default 60),
# TEDUH_CHAOS_REPLICAS (default 3..6 by seed), TEDUH_CHAOS_SEED_BASE (first seed, 1),
# TEDUH_CHAOS_SKEW_DAYS (put the fast replica days ahead). A single failing seed replays
# with TEDUH_CHAOS_SEED=N scripts/chaos.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seeds="${1:-100}"
build="${2:-$root/build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
binary="$build/tests/teduh_chaos_tests"
if [[ ! -x "$binary" ]]; then
  echo "chaos.sh: $binary not found; build it first:" >&2
  echo "  cmake --build $build --target teduh teduhd teduh_chaos_tests" >&2
  exit 1
fi
export TEDUH_CHAOS_SEEDS="$seeds"
if [[ -n "${TEDUH_CHAOS_SEED:-}" ]]; then
  echo "chaos: replaying seed $TEDUH_CHAOS_SEED"
else
  echo "chaos: $seeds seeds from ${TEDUH_CHAOS_SEED_BASE:-1}, ${TEDUH_CHAOS_OPS:-60} operations each"
fi
start=$(date +%s)
status=0
"$binary" --gtest_filter='Chaos.ReplicasConverge*' --gtest_color=no || status=$?
end=$(date +%s)
count="$seeds"
[[ -n "${TEDUH_CHAOS_SEED:-}" ]] && count=1
echo "chaos: ran $count seed(s) in $((end - start)) s; exit $status"
exit "$status"

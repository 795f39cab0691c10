#!/usr/bin/env bash
# Runs the deterministic simulation on demand (tests/sim, issue 14) from an existing build.
#   scripts/simulate.sh [seeds] [first-seed] [build-dir]   defaults: 1000 seeds from 1, build/
#   scripts/simulate.sh random [count] [build-dir]         seeds drawn from the clock (printed)
# Extra options go through TEDUH_SIM_ARGS, e.g. TEDUH_SIM_ARGS="--ops 500 --hostile 1".
# A failing seed prints the command that replays it (and a shrunk one); run it from
# build/tests with --verbose to see every step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export TEDUH_TEST_STORES=1
if [[ "${1:-}" == "random" ]]; then
  build="${3:-$root/build}"
  args=(--random "${2:-20}")
else
  build="${3:-$root/build}"
  args=(--seeds "${1:-1000}" --from "${2:-1}")
fi
case "$build" in /*) ;; *) build="$root/$build" ;; esac
binary="$build/tests/teduh_sim"
if [[ ! -x "$binary" ]]; then
  echo "simulate.sh: $binary not found; build it first: cmake --build $build --target teduh_sim" >&2
  exit 1
fi
# shellcheck disable=SC2086
exec "$binary" "${args[@]}" ${TEDUH_SIM_ARGS:-}

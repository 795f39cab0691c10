#!/usr/bin/env bash
# Installs what Teduh needs, builds it, and runs the demo: offices syncing with a local server,
# then, at a terminal, the office app on the demo's data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --parallel 2 --target teduh teduhd
# A person at a terminal ends on the office app with the demo's data (client/APP.md); a
# script (no terminal) gets the demo alone. TEDUH_DEMO_APP=0 or 1 chooses.
if [ -t 0 ] && [ -t 1 ]; then export TEDUH_DEMO_APP=${TEDUH_DEMO_APP:-1}; fi
exec ./scripts/demo-run.sh build

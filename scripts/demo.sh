#!/usr/bin/env bash
# Installs what Teduh needs, builds it, and runs the demo: an office records a case offline.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --parallel 2 --target teduh teduhd
exec ./scripts/demo-run.sh build

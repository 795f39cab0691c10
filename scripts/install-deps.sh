#!/usr/bin/env bash
# Installs Teduh's build and test dependencies from Debian 12 packages.
# Idempotent: prints nothing and changes nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev libboost-system-dev
  libsqlite3-dev sqlite3
  libmsgpack-cxx-dev
  libsodium-dev
  libutf8proc-dev
  libzxcvbn-dev
  libxlsxwriter-dev  # the report as an Excel workbook (teduh report --xlsx, the office app)
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libcli11-dev libexpected-dev nlohmann-json3-dev
  clang libclang-rt-14-dev clang-tidy
  libtcmalloc-minimal4  # the simulation's allocator (tests/CMakeLists.txt): less CPU per seed
  chromium  # the office app's browser test (tests/browser): headless, driven by puppeteer-core
)
# Node for the browser test's driver; a Node already installed (e.g. NodeSource's) is kept.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: these packages are missing: ${missing[*]}; run this script as root." >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser test's npm packages (puppeteer-core drives the installed Chromium and downloads
# nothing; axe-core checks accessibility), exactly as package-lock.json pins them.
browser_tests="$(dirname "$0")/../tests/browser"
if [ ! -f "$browser_tests/node_modules/.package-lock.json" ] ||
   [ "$browser_tests/package-lock.json" -nt "$browser_tests/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser_tests" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi

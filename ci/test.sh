#!/usr/bin/env bash
# Builds and tests IndexBus: `ci/test.sh [PRESET ...]` (default: release). For each preset it
# configures, builds and runs ctest; it exits non-zero on the first failure.
# Presets: release debug asan-ubsan tsan coverage fuzz clang-release (see CMakePresets.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh

presets=("$@")
if [ "${#presets[@]}" -eq 0 ]; then presets=(release); fi
jobs="${INDEXBUS_JOBS:-$(nproc)}"

for preset in "${presets[@]}"; do
  echo "=== ci/test.sh: preset ${preset} ==="
  start=$(date +%s)
  mkdir -p build
  cmake --preset "${preset}" > "build/${preset}.configure.log" 2>&1 || { cat "build/${preset}.configure.log"; exit 1; }
  cmake --build --preset "${preset}" -j "${jobs}"
  ctest --preset "${preset}" -j "${jobs}"
  echo "=== ci/test.sh: preset ${preset} passed in $(( $(date +%s) - start )) s ==="
done

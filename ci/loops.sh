#!/usr/bin/env bash
# Routers and merges under every preset that issue 7's "Done when" names: `ci/loops.sh [PRESET ...]`
# (default: release asan-ubsan tsan). For each preset it configures build/<preset>-loops with the
# simulator, harness and CLI on (the sanitizer presets of CMakePresets.json leave them off to keep
# .ci/run under 30 minutes), builds, and runs every router and merge test: the models (RouterModel,
# MergeModel), RapidCheck against the models (RouterVsModel, MergeVsModel, LoopDefects), the loops
# on real lanes and threads, the simulator scenarios (RealLoop, PlantedBugs, LoopReplay), the
# catalog's topology cases (TopologyCases) and the multi-process topologies. Exits non-zero on the
# first failure. A sanitizer build with the tools took about 35 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh

presets=("$@")
if [ "${#presets[@]}" -eq 0 ]; then presets=(release asan-ubsan tsan); fi
jobs="${INDEXBUS_JOBS:-$(nproc)}"
tests='Loop|Router|Merge|Topology|PlantedBugs/BrokenLoop|Cli\.SimRunsRoutersAndMerges'

for preset in "${presets[@]}"; do
  echo "=== ci/loops.sh: preset ${preset} ==="
  start=$(date +%s)
  dir="build/${preset}-loops"
  mkdir -p build
  cmake --preset "${preset}" -B "${dir}" -DINDEXBUS_BUILD_TOOLS=ON -DINDEXBUS_BUILD_MODEL_TESTS=ON \
    > "build/${preset}-loops.configure.log" 2>&1 || { cat "build/${preset}-loops.configure.log"; exit 1; }
  cmake --build "${dir}" -j "${jobs}"
  count=$(ctest --test-dir "${dir}" -N -R "${tests}" | sed -n 's/^Total Tests: //p')
  if [ "${count:-0}" -lt 80 ]; then
    echo "ci/loops.sh: only ${count:-0} router and merge tests found in ${dir} (expected at least 80)" >&2
    exit 1
  fi
  ctest --test-dir "${dir}" -j "${jobs}" --timeout 600 --output-on-failure -R "${tests}"
  echo "=== ci/loops.sh: preset ${preset}: ${count} tests passed in $(( $(date +%s) - start )) s ==="
done

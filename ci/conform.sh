#!/usr/bin/env bash
# The main job: builds the release preset and runs `indexbus conform` on the built-in reference
# implementation (the case catalog, with the reference agent). Arguments go to `indexbus conform`
# (e.g. --seed S --cases GLOB --report DIR); exit code is its own
# (0 pass, 1 conformance failure, 2 usage, 3 environment).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release --target indexbus -j "${INDEXBUS_JOBS:-$(nproc)}"
exec build/release/bin/indexbus conform "$@"

#!/usr/bin/env bash
# The main job: builds the release preset and runs `indexbus conform` on the built-in reference
# implementation. Arguments go to `indexbus conform` (e.g. --seed S --runs N); exit code is its own
# (0 pass, 1 conformance failure, 2 usage, 3 environment).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release --target indexbus -j "${INDEXBUS_JOBS:-$(nproc)}"
exec build/release/bin/indexbus conform "$@"

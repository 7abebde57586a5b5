#!/usr/bin/env bash
# Line coverage of core/ and spec/ from the lanes' test suite: builds the coverage preset (which
# is also under ASan + UBSan, so a memory or UB error fails it too), runs ctest, writes an lcov
# HTML report to build/coverage/html and prints the figures.
# Fails when either module is below INDEXBUS_COVERAGE_MIN percent (default 85).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
minimum="${INDEXBUS_COVERAGE_MIN:-85}"
jobs="${INDEXBUS_JOBS:-$(nproc)}"

cmake --preset coverage > /dev/null
cmake --build --preset coverage -j "${jobs}"
find build/coverage -name '*.gcda' -delete
ctest --preset coverage -j "${jobs}"

out=build/coverage/lcov
mkdir -p "${out}"
lcov --quiet --capture --directory build/coverage --output-file "${out}/all.info" \
  --rc lcov_branch_coverage=0 --ignore-errors mismatch 2>/dev/null \
  || lcov --quiet --capture --directory build/coverage --output-file "${out}/all.info"
# Production code only: tests, benches and test support are not what is being measured.
lcov --quiet --extract "${out}/all.info" "$(pwd)/core/*" "$(pwd)/spec/*" --output-file "${out}/modules.info"
lcov --quiet --remove "${out}/modules.info" '*/tests/*' '*/bench/*' --output-file "${out}/modules.info"
genhtml --quiet "${out}/modules.info" --output-directory build/coverage/html
echo "coverage report: build/coverage/html/index.html"

status=0
for module in core spec; do
  lcov --quiet --extract "${out}/modules.info" "$(pwd)/${module}/*" --output-file "${out}/${module}.info"
  line=$(lcov --summary "${out}/${module}.info" 2>&1 | awk '/lines\.*:/ {print $2}' | tr -d '%')
  echo "line coverage ${module}/: ${line}% (minimum ${minimum}%)"
  if ! awk -v have="${line}" -v need="${minimum}" 'BEGIN { exit !(have + 0 >= need + 0) }'; then
    echo "ci/coverage.sh: ${module}/ is below ${minimum}%" >&2
    status=1
  fi
done
exit "${status}"

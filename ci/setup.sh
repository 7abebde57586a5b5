#!/usr/bin/env bash
# Installs what IndexBus needs to build, test, fuzz and measure coverage, from Debian's packages.
# Idempotent: packages already present are skipped, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  cmake make g++ git
  clang libclang-rt-14-dev          # clang 14 and libFuzzer (fuzz preset)
  libboost-dev libboost-context-dev # Boost.Interprocess, Boost.CRC; Boost.Context for sim/
  librapidcheck-dev                 # property tests
  libgtest-dev libgmock-dev         # unit tests
  libbenchmark-dev                  # benchmarks
  libcli11-dev                      # the indexbus CLI
  nlohmann-json3-dev                # JSON output
  libtoml11-dev                     # topology files (conformance/topology)
  lcov                              # coverage report
  pkg-config                        # the install test checks indexbus.pc
  libcjson-dev                      # JSON in the plain C agent (conformance/agents/c)
  chromium                          # headless check of the conformance report.html (label report)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "ci/setup.sh: all ${#packages[@]} packages present"
  exit 0
fi

echo "ci/setup.sh: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

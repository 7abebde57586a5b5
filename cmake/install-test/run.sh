#!/usr/bin/env bash
# Installs the build tree $1 into a scratch prefix, then builds the consumer project $2 against it
# twice: with find_package(indexbus) and with pkg-config flags (compiler $3). Both programs create
# a region, write and read one entry and remove the region. The scratch directory is removed.
set -euo pipefail
build_dir=$1 consumer_dir=$2 cxx=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/indexbus-install-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
echo "install-test: prefix $scratch/prefix"
cmake --install "$build_dir" --prefix "$scratch/prefix" > "$scratch/install.log"
test -x "$scratch/prefix/bin/indexbus"
test -f "$scratch/prefix/include/indexbus/events.hpp"
"$scratch/prefix/bin/indexbus" --help > /dev/null
cmake -S "$consumer_dir" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release > "$scratch/configure.log"
cmake --build "$scratch/consumer" > "$scratch/build.log"
"$scratch/consumer/consumer"
# The .pc file was written for the real prefix; point pkg-config at the scratch copy.
pc_dir=$(dirname "$(find "$scratch/prefix" -name indexbus.pc | head -1)")
sed -i "s|^prefix=.*|prefix=$scratch/prefix|" "$pc_dir/indexbus.pc"
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs indexbus)
# shellcheck disable=SC2086
"$cxx" "$consumer_dir/main.cpp" -o "$scratch/consumer-pc" $flags
"$scratch/consumer-pc"
echo "install-test: find_package and pkg-config consumers both ran"

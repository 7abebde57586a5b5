#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer + ASan + UBSan) and fuzzes region_header_fuzz.
#
#   fuzz/run_fuzz.sh [options] [SECONDS]        (SECONDS defaults to 60)
#
# One job, one process. The fuzzer reads the committed corpus (fuzz/corpus/region_header) but
# writes new inputs only to a scratch directory, unless --merge is given: then the inputs that
# add coverage are merged into the committed corpus afterwards (libFuzzer -merge=1, named by
# SHA-1). A crash, leak, timeout or contradiction is saved under fuzz/artifacts/ and makes the
# script exit non-zero. The seed is printed, and so is a one-line command that replays the same
# campaign (same seed, same number of executions) or the crashing input.
#
# Options:
#   --seed N          libFuzzer seed (default: random, or $INDEXBUS_FUZZ_SEED)
#   --runs N          stop after N executions instead of after SECONDS (deterministic replay)
#   --build-dir DIR   build directory of the fuzz preset (default: <repo>/build/fuzz)
#   --corpus DIR      seed corpus to start from (default: fuzz/corpus/region_header)
#   --no-build        use the existing binary (CTest does this)
#   --merge           merge new coverage into the committed corpus after the run
#   --keep            keep the scratch directory
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
corpus="$script_dir/corpus/region_header"
artifacts="$script_dir/artifacts"
build_dir="$repo/build/fuzz"
seconds=60
seed="${INDEXBUS_FUZZ_SEED:-}"
runs=""
build=1
merge=0
keep=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --corpus) corpus=$(cd "$2" && pwd); shift 2 ;;
    --no-build) build=0; shift ;;
    --merge) merge=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    [0-9]*) seconds="$1"; shift ;;
    *) echo "run_fuzz.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "run_fuzz.sh: SECONDS must be a positive integer" >&2; exit 2; }
[[ -z "$runs" || "$runs" =~ ^[0-9]+$ ]] || { echo "run_fuzz.sh: --runs needs a number" >&2; exit 2; }
if [[ -z "$seed" ]]; then
  seed=$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2147483646 + 1 ))
fi
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "run_fuzz.sh: --seed needs a number" >&2; exit 2; }

if [[ $build -eq 1 ]]; then
  echo "== building the fuzz preset in $build_dir"
  if [[ "$build_dir" == "$repo/build/fuzz" ]]; then
    (cd "$repo" && cmake --preset fuzz >/dev/null && cmake --build --preset fuzz --target region_header_fuzz)
  else
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DINDEXBUS_FUZZ=ON >/dev/null
    cmake --build "$build_dir" -j2 --target region_header_fuzz
  fi
fi
fuzzer="$build_dir/fuzz/region_header_fuzz"
[[ -x "$fuzzer" ]] || { echo "run_fuzz.sh: $fuzzer not built (configure with the fuzz preset)" >&2; exit 2; }
[[ -n "$(ls -A "$corpus" 2>/dev/null)" ]] || { echo "run_fuzz.sh: corpus $corpus is missing or empty" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/indexbus-fuzz.XXXXXX")
mkdir -p "$scratch/corpus" "$artifacts"
cp "$corpus"/* "$scratch/corpus/"
log="$scratch/fuzz.log"
cleanup() { if [[ $keep -eq 0 && ${finding:-0} -eq 0 ]]; then rm -rf "$scratch"; fi; }
trap cleanup EXIT

limit=(-max_total_time="$seconds")
[[ -n "$runs" ]] && limit=(-runs="$runs")
before=$(ls "$artifacts" | wc -l)

budget=$([[ -n "$runs" ]] && echo "runs=$runs" || echo "seconds=$seconds")
echo "== region_header_fuzz seed=$seed $budget scratch=$scratch"
set +e
# The scratch corpus comes first: libFuzzer writes new inputs to the first directory only.
# -max_len: libFuzzer's guess (1 MiB) would truncate valid_drop_slot_1m_max.bin (1052672 bytes,
# the largest slot) and so make it invalid; 1 MiB + 64 KiB keeps every seed whole.
"$fuzzer" -seed="$seed" "${limit[@]}" -max_len=1114112 -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" "$scratch/corpus" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
coverage=$(sed -nE 's/.*[[:space:]]cov: ([0-9]+) ft: ([0-9]+) corp: ([^ ]+).*/cov \1, ft \2, corpus \3/p' <<<"${done_line:-$(grep -E ' cov: ' "$log" | tail -1)}")
after=$(ls "$artifacts" | wc -l)
finding=0
if [[ $status -ne 0 || $after -gt $before ]]; then finding=1; fi

echo "== summary: seed $seed, ${executions:-?} executions, ${coverage:-coverage unknown}, exit status $status"
echo "== replay this campaign: fuzz/run_fuzz.sh --seed $seed --runs ${executions:-N}"
if [[ $finding -eq 1 ]]; then
  newest=$(ls -t "$artifacts" | head -1)
  echo "== FINDING: saved as fuzz/artifacts/$newest (log and scratch corpus kept in $scratch)"
  echo "== replay the input: $fuzzer $artifacts/$newest"
  echo "== minimize it:      $fuzzer -minimize_crash=1 -runs=100000 -artifact_prefix=$artifacts/min- $artifacts/$newest"
  exit 1
fi
if [[ $merge -eq 1 ]]; then
  echo "== merging new coverage into $corpus"
  "$fuzzer" -merge=1 "$corpus" "$scratch/corpus" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
fi
exit 0

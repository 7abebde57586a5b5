#!/usr/bin/env bash
# The interop matrix of `indexbus certify` as a browser renders it: certifies the test-only broken
# agent whose consumer skips every 5th entry on two FIFO cases, loads REPORT/report.html in headless
# Chromium (--dump-dom, bounded by a timeout) and checks the matrix: the pair reference->broken
# (the broken agent consumes) red with links to its failures, broken->reference (it only produces)
# green. Without chromium: FAIL in CI (CI=true), SKIP (exit 77) elsewhere.
# Usage: matrix_dom_test.sh INDEXBUS_CLI BROKEN_AGENT
set -euo pipefail
cli="$1"
broken_agent="$2"

chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium_bin" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "matrix_dom_test: chromium is not installed; ci/setup.sh installs it (apt package chromium)" >&2
    exit 1
  fi
  echo "matrix_dom_test: chromium not found: SKIP (in CI this fails)"
  exit 77
fi

work="$(mktemp -d /tmp/indexbus-matrix-dom-XXXXXX)"
trap 'rm -rf "$work"' EXIT

status=0
timeout 100 "$cli" certify --agent "broken=$broken_agent --defect skip-every-5th-entry" \
  --cases Required.Events.Block.FifoInOrder --cases Required.Events.Block.Wraparound --seed 7 --jobs 2 \
  --report "$work/report" > "$work/certify.log" 2>&1 || status=$?
if [ "$status" -ne 1 ]; then
  echo "matrix_dom_test: indexbus certify exited $status, expected 1 (not certified)" >&2
  cat "$work/certify.log" >&2
  exit 1
fi

timeout 60 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --user-data-dir="$work/profile" --dump-dom "file://$work/report/report.html" > "$work/dom.html" 2> "$work/chromium.log" || {
  echo "matrix_dom_test: chromium failed or timed out" >&2
  tail -20 "$work/chromium.log" >&2
  exit 1
}

check() {  # description, fixed string that must be in the rendered DOM
  if ! grep -qF -- "$2" "$work/dom.html"; then
    echo "matrix_dom_test: rendered DOM lacks $1: $2" >&2
    cat "$work/certify.log" >&2
    exit 1
  fi
}
count() {  # fixed string -> how many times it occurs in the rendered DOM
  grep -oF -- "$1" "$work/dom.html" | wc -l
}
check "the interop matrix" '<table id="interop-matrix">'
check "a red Events/Block cell" '<div class="cell failed" data-kind-policy="Events/Block">Events/Block 0/2'
check "a green Events/Block cell" '<div class="cell certified" data-kind-policy="Events/Block">Events/Block 2/2'
check "a link to a failing interop case" 'href="broken/report.html#Interop[reference-'
check "the per-agent table after it" '<table id="matrix">'
# reference->broken and broken->broken fail (the broken agent consumes); broken->reference passes.
[ "$(count 'class="cell failed"')" -eq 2 ] || { echo "matrix_dom_test: expected 2 red cells" >&2; exit 1; }
[ "$(count 'class="cell certified"')" -eq 1 ] || { echo "matrix_dom_test: expected 1 green cell" >&2; exit 1; }
echo "matrix_dom_test: the rendered matrix shows reference->broken red, broken->reference green"

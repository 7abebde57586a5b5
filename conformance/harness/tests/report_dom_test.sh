#!/usr/bin/env bash
# report.html as a browser renders it: runs `indexbus conform` with the test-only broken agent on a
# few cases, loads the report in headless Chromium (--dump-dom, bounded by a timeout) and checks
# that the rendered DOM holds the failing case's section, its verdict and its replay command.
# Without chromium: FAIL in CI (CI=true), SKIP (exit 77) elsewhere.
# Usage: report_dom_test.sh INDEXBUS_CLI BROKEN_AGENT
set -euo pipefail
cli="$1"
broken_agent="$2"
failing_case="Required.Events.Block.TryWriteFullWhenFull"
passing_case="Required.Events.Payload.ZeroLengthEntry"

chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium_bin" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "report_dom_test: chromium is not installed; ci/setup.sh installs it (apt package chromium)" >&2
    exit 1
  fi
  echo "report_dom_test: chromium not found: SKIP (in CI this fails)"
  exit 77
fi

work="$(mktemp -d /tmp/indexbus-report-dom-XXXXXX)"
trap 'rm -rf "$work"' EXIT

status=0
timeout 60 "$cli" conform --agent "$broken_agent" --agent-arg=--defect --agent-arg=ok-instead-of-full \
  --cases "$failing_case" "$passing_case" --seed 7 --jobs 1 --report "$work/report" > "$work/conform.log" 2>&1 || status=$?
if [ "$status" -ne 1 ]; then
  echo "report_dom_test: indexbus conform exited $status, expected 1 (a REQUIRED case fails)" >&2
  cat "$work/conform.log" >&2
  exit 1
fi

# Its own profile directory, so that no state is shared with another run; bounded by timeout.
timeout 60 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --user-data-dir="$work/profile" --dump-dom "file://$work/report/report.html" > "$work/dom.html" 2> "$work/chromium.log" || {
  echo "report_dom_test: chromium failed or timed out" >&2
  tail -20 "$work/chromium.log" >&2
  exit 1
}

check() {  # description, fixed string that must be in the rendered DOM
  if ! grep -qF -- "$2" "$work/dom.html"; then
    echo "report_dom_test: rendered DOM lacks $1: $2" >&2
    exit 1
  fi
}
check "the failing case's section" "<section class=\"case FAIL\" id=\"$failing_case\">"
check "the verdict heading" "<h2>FAIL $failing_case</h2>"
check "the replay command" "--cases $failing_case --seed 7"
check "the model's expectation" "expected Full, got Ok"
check "the summary" "1 passed, 1 failed"
if grep -qF "id=\"$passing_case\"" "$work/dom.html"; then
  echo "report_dom_test: the passing case has a failure section" >&2
  exit 1
fi
echo "report_dom_test: the rendered report shows $failing_case FAIL with its replay command"

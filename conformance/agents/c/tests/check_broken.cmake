# Runs the catalog on the C agent with `--break BREAK`, limited to CASES (each names RULE), and
# requires a conformance failure (exit 1) with every one of those cases FAILED under RULE.
# A broken agent that passes, crashes the harness or fails elsewhere makes this test fail.
# FLAG: how the agent is told to break (default --break, the C agent's; --defect for indexbus-agent-broken).
if(NOT DEFINED FLAG)
  set(FLAG --break)
endif()
set(case_args)
foreach(case IN LISTS CASES)
  list(APPEND case_args --cases ${case})
endforeach()
execute_process(COMMAND ${INDEXBUS} conform --agent ${AGENT} --agent-arg ${FLAG} --agent-arg ${BREAK} ${case_args}
                        --report ${REPORT}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 100)
message("${out}${err}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "${FLAG} ${BREAK}: conform exited ${rc}, expected 1 (a conformance failure)")
endif()
foreach(case IN LISTS CASES)
  if(NOT out MATCHES "FAIL +REQUIRED +${case} [^\n]*${RULE}")
    message(FATAL_ERROR "${FLAG} ${BREAK}: case ${case} did not FAIL under ${RULE}")
  endif()
endforeach()
message("${FLAG} ${BREAK}: every case naming ${RULE} failed, as it must")

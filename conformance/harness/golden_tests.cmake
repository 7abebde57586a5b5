# Tests of the golden-image cases (golden_catalog.cpp, label certify). Each runs `indexbus conform`
# on Required.Layout.Golden* only (about 50 short cases, < 2 s each test).
add_test(NAME Golden.ReferenceAgentPassesTheGoldenCases
         COMMAND indexbus conform --agent $<TARGET_FILE:indexbus-agent> --cases "Required.Layout.Golden*" --jobs 2
                 --report ${CMAKE_CURRENT_BINARY_DIR}/golden-reference)
add_test(NAME Golden.CAgentPassesTheGoldenCases
         COMMAND indexbus conform --agent $<TARGET_FILE:indexbus-agent-c> --cases "Required.Layout.Golden*" --jobs 2
                 --report ${CMAKE_CURRENT_BINARY_DIR}/golden-c)
# The cases can fail: each broken agent fails the golden cases of the rule it breaks.
set(check_broken ${PROJECT_SOURCE_DIR}/conformance/agents/c/tests/check_broken.cmake)
add_test(NAME Golden.CAgentWrongStrideFailsEv9
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-c>
                 -DBREAK=wrong-stride -DRULE=EV-9
                 "-DCASES=Required.Layout.Golden.events_block_full.L0.consumer;Required.Layout.Golden.events_block_wrapped_closed.L0.consumer;Required.Layout.Golden.multi_lane.L0.consumer"
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/golden-broken-wrong-stride -P ${check_broken})
add_test(NAME Golden.BrokenReferenceFanoutLostFailsFb7
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-broken>
                 -DFLAG=--defect -DBREAK=fanout-lost-off-by-one -DRULE=FB-7
                 "-DCASES=Required.Layout.Golden.fanout_drop_lost.L0.consumer0;Required.Layout.Golden.fanout_drop_lost.L0.consumer1"
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/golden-broken-fanout-lost -P ${check_broken})
set_tests_properties(Golden.ReferenceAgentPassesTheGoldenCases Golden.CAgentPassesTheGoldenCases
                     Golden.CAgentWrongStrideFailsEv9 Golden.BrokenReferenceFanoutLostFailsFb7
                     PROPERTIES LABELS certify TIMEOUT 120)

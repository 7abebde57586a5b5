# Tests of the plain C agent (label `certify`). Each prints the conform seed and replay line.
add_executable(c_agent_images_test tests/c_agent_images_test.c)
set_target_properties(c_agent_images_test PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_definitions(c_agent_images_test PRIVATE _GNU_SOURCE)
target_compile_options(c_agent_images_test PRIVATE -Wall -Wextra -Werror -pedantic -Wshadow)
target_include_directories(c_agent_images_test PRIVATE ${CJSON_INCLUDE_DIRS})
target_link_libraries(c_agent_images_test PRIVATE cjson)

add_executable(c_agent_protocol_test tests/c_agent_protocol_test.c)
set_target_properties(c_agent_protocol_test PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_definitions(c_agent_protocol_test PRIVATE _GNU_SOURCE)
target_compile_options(c_agent_protocol_test PRIVATE -Wall -Wextra -Werror -pedantic -Wshadow)
target_include_directories(c_agent_protocol_test PRIVATE ${CJSON_INCLUDE_DIRS})
target_link_libraries(c_agent_protocol_test PRIVATE cjson)

# The C agent is CERTIFIED by `indexbus certify` (no expected-failures list: exit 0 only when
# every counted case of the catalog passed), the interop pairs with the reference agent included:
# certificate.json lists reference->c and c->reference as certified (about 6 s).
add_test(NAME CAgent.CertifiedByTheCatalog
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-c>
                 -DVERDICT=CERTIFIED "-DPAIRS=reference->c;c->reference" -DSTATUS=certified
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/certify-report -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/check_interop.cmake)
# The interop runs can fail: the wrong-stride C agent fails FIFO and wraparound where it produces
# (c->reference), where it consumes (reference->c) and alone (c->c), and nowhere else: certify
# exits 0 only when the failures are exactly those of the list, each with its reason; the saved
# reference->c failure replays as that pair (about 2 s).
add_test(NAME CAgent.BrokenWrongStrideFailsInteropBothWays
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-c> -DBREAK=wrong-stride
                 "-DCASES=Required.Events.Block.FifoInOrder;Required.Events.Block.Wraparound"
                 -DLIST=${CMAKE_CURRENT_SOURCE_DIR}/tests/wrong_stride_interop_expected.txt
                 "-DVERDICT=NOT CERTIFIED" "-DPAIRS=reference->c;c->reference" -DSTATUS=failed
                 "-DREPLAY=Interop[reference->c].Required.Events.Block.Wraparound"
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/certify-wrong-stride -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/check_interop.cmake)
# Images both ways with the reference tools, and an Events lane shared live with the reference agent (< 1 s).
add_test(NAME CAgent.ImagesBothWaysWithTheReference
         COMMAND c_agent_images_test $<TARGET_FILE:indexbus> $<TARGET_FILE:indexbus-agent> $<TARGET_FILE:indexbus-agent-c>)
# The images test can fail: with the wrong-stride C agent some of its checks must fail (< 1 s).
add_test(NAME CAgent.ImagesTestCatchesWrongStride
         COMMAND c_agent_images_test $<TARGET_FILE:indexbus> $<TARGET_FILE:indexbus-agent> $<TARGET_FILE:indexbus-agent-c>
                 wrong-stride)
# Malformed requests get error replies of the right kind; broken frames end the agent (< 1 s).
# ... and every image of the region corpus gets the error code its file name says (< 2 s).
add_test(NAME CAgent.HostileInput COMMAND c_agent_protocol_test $<TARGET_FILE:indexbus-agent-c>
                                          ${PROJECT_SOURCE_DIR}/fuzz/corpus/region_header)
# The corpus check can fail: a validator that skips the checksum must be caught (< 1 s).
add_test(NAME CAgent.CorpusCatchesNoChecksum COMMAND c_agent_protocol_test $<TARGET_FILE:indexbus-agent-c>
                                                      ${PROJECT_SOURCE_DIR}/fuzz/corpus/region_header no-checksum)
# Each test-only defect fails the cases that name the rule it breaks (< 1 s each).
add_test(NAME CAgent.BrokenWrongStrideFailsEv9
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-c>
                 -DBREAK=wrong-stride -DRULE=EV-9 "-DCASES=Required.Events.Block.FifoInOrder;Required.Events.Block.Wraparound"
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/broken-wrong-stride -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/check_broken.cmake)
add_test(NAME CAgent.BrokenDropNewestFailsEv12
         COMMAND ${CMAKE_COMMAND} -DINDEXBUS=$<TARGET_FILE:indexbus> -DAGENT=$<TARGET_FILE:indexbus-agent-c>
                 -DBREAK=drop-newest -DRULE=EV-12 "-DCASES=Required.Events.Drop.OverwritesOldest;Required.Events.Drop.CapacityOneKeepsNewest"
                 -DREPORT=${CMAKE_CURRENT_BINARY_DIR}/broken-drop-newest -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/check_broken.cmake)
set_tests_properties(CAgent.CertifiedByTheCatalog CAgent.BrokenWrongStrideFailsInteropBothWays CAgent.ImagesBothWaysWithTheReference
                     CAgent.ImagesTestCatchesWrongStride CAgent.HostileInput CAgent.CorpusCatchesNoChecksum
                     CAgent.BrokenWrongStrideFailsEv9
                     CAgent.BrokenDropNewestFailsEv12 PROPERTIES LABELS certify TIMEOUT 120)

# The same hostile-input, corpus and images tests on the agent built with ASan + UBSan (about 5 s).
if(TARGET indexbus-agent-c-asan)
  add_test(NAME CAgent.Asan.HostileInput COMMAND c_agent_protocol_test $<TARGET_FILE:indexbus-agent-c-asan>
                                                 ${PROJECT_SOURCE_DIR}/fuzz/corpus/region_header)
  add_test(NAME CAgent.Asan.ImagesBothWaysWithTheReference
           COMMAND c_agent_images_test $<TARGET_FILE:indexbus> $<TARGET_FILE:indexbus-agent>
                   $<TARGET_FILE:indexbus-agent-c-asan>)
  set_tests_properties(CAgent.Asan.HostileInput CAgent.Asan.ImagesBothWaysWithTheReference PROPERTIES
                       LABELS certify TIMEOUT 120 ENVIRONMENT "ASAN_OPTIONS=abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1")
endif()

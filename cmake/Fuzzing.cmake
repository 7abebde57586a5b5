# libFuzzer targets need clang; under any other build the same sources are compiled into a
# corpus-replay executable so that the stored corpus is a regression test in every build.
if(INDEXBUS_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "INDEXBUS_FUZZ needs clang (use the 'fuzz' preset)")
endif()

# Under the fuzz preset every object, the libraries under test above all, carries libFuzzer's
# coverage hooks and ASan/UBSan; only fuzz targets link libFuzzer's main.
if(INDEXBUS_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# indexbus_add_fuzz_target(NAME SOURCE CORPUS_DIR LIBS...)
function(indexbus_add_fuzz_target name source corpus)
  if(INDEXBUS_FUZZ)
    add_executable(${name} ${source})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${ARGN} indexbus_warnings)
  endif()
  if(INDEXBUS_BUILD_TESTS)
    add_executable(${name}_replay ${source} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
    target_link_libraries(${name}_replay PRIVATE ${ARGN} indexbus_warnings)
    add_test(NAME ${name}.corpus_replay COMMAND ${name}_replay ${corpus})
    set_tests_properties(${name}.corpus_replay PROPERTIES LABELS "fuzz" TIMEOUT 300)
  endif()
endfunction()

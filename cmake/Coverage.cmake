# Line coverage with gcov; ci/coverage.sh turns the counters into an lcov report.
if(INDEXBUS_COVERAGE)
  add_compile_options(--coverage -O0 -g)
  add_link_options(--coverage)
endif()

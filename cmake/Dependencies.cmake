# Every dependency is a Debian package found with find_package; nothing is vendored or downloaded.
find_package(Boost 1.74 REQUIRED)              # Boost.Interprocess (mapping), Boost.CRC (checksum)
find_package(Threads REQUIRED)
find_package(CLI11 REQUIRED)                   # libcli11-dev: the indexbus CLI
find_package(nlohmann_json 3 REQUIRED)         # nlohmann-json3-dev: JSON output
if(INDEXBUS_BUILD_TESTS)
  find_package(GTest REQUIRED)                 # libgtest-dev, libgmock-dev
  find_package(rapidcheck REQUIRED)            # librapidcheck-dev
  find_package(benchmark REQUIRED)             # libbenchmark-dev
endif()

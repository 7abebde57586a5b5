# Installing IndexBus for other projects (issue "Production use"): `cmake --install <build>`
# puts the core headers, libindexbus_core.a, the `indexbus` CLI, a CMake package
# (find_package(indexbus) -> indexbus::core, indexbus::vocabulary) and a pkg-config file
# (indexbus.pc) under the prefix. cmake/install-test/ builds a consumer against the result.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(INDEXBUS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/indexbus)

install(TARGETS indexbus_core indexbus_vocabulary EXPORT indexbusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/indexbus
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(TARGETS indexbus RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT indexbusTargets NAMESPACE indexbus:: FILE indexbusTargets.cmake
        DESTINATION ${INDEXBUS_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/indexbusConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/indexbusConfig.cmake
                              INSTALL_DESTINATION ${INDEXBUS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/indexbusConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/indexbusConfig.cmake ${PROJECT_BINARY_DIR}/indexbusConfigVersion.cmake
        DESTINATION ${INDEXBUS_CMAKE_DIR})

configure_file(${CMAKE_CURRENT_LIST_DIR}/indexbus.pc.in ${PROJECT_BINARY_DIR}/indexbus.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/indexbus.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The install test: install this build into a scratch prefix, then configure, build and run a
# consumer project with find_package, and compile the same program with pkg-config flags. Only
# for uninstrumented builds: a sanitizer or coverage build's archive needs its runtime flags in
# the consumer too, which is not what a user gets.
if(INDEXBUS_BUILD_TESTS AND INDEXBUS_SANITIZE STREQUAL "" AND NOT INDEXBUS_COVERAGE AND NOT INDEXBUS_FUZZ)
  add_test(NAME install.consumer_builds_against_installed_package
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/install-test/run.sh ${PROJECT_BINARY_DIR}
                   ${CMAKE_CURRENT_LIST_DIR}/install-test/consumer ${CMAKE_CXX_COMPILER})
  set_tests_properties(install.consumer_builds_against_installed_package PROPERTIES LABELS install TIMEOUT 300)
endif()

# Warning policy for every target of ours: warning-free under g++ 12 and clang 14.
# (-Wnull-dereference is left out: g++ 12 -O2 reports it inside libstdc++'s streambuf.)
add_library(indexbus_warnings INTERFACE)
target_compile_options(indexbus_warnings INTERFACE -Wall -Wextra -Werror -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wimplicit-fallthrough
  # Our option structs give every member a default, so leaving trailing members out of a braced
  # initializer is the point, not a mistake.
  -Wno-missing-field-initializers)
# g++ 12 at -O2 reports -Wrestrict inside libstdc++'s std::string operator+ (GCC bug 105329, a
# known false positive); it fires on correct code, so it is the one warning turned off.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(indexbus_warnings INTERFACE -Wno-restrict)
endif()
# Under AddressSanitizer g++ 12 reports -Wmaybe-uninitialized inside libstdc++ (std::regex's NFA
# in conformance/cli/tests/doctor_cli_test.cpp; std::variant's move constructor before
# ring_step.cpp emplaced instead): GCC's documentation warns that -fsanitize=address makes this
# warning give false positives. It stays a warning there, so a real one is still printed; release
# and tsan keep it an error.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13
   AND "address" IN_LIST INDEXBUS_SANITIZE)
  target_compile_options(indexbus_warnings INTERFACE -Wno-error=maybe-uninitialized)
endif()

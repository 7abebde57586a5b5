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

# Warning policy for every target of ours: warning-free under g++ 12 and clang 14.
add_library(indexbus_warnings INTERFACE)
target_compile_options(indexbus_warnings INTERFACE -Wall -Wextra -Werror -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
  -Wdouble-promotion -Wimplicit-fallthrough)

# INDEXBUS_SANITIZE is a CMake list: "address;undefined" or "thread". Applied globally so that
# every object, including test mains, is instrumented the same way.
if(INDEXBUS_SANITIZE)
  list(JOIN INDEXBUS_SANITIZE "," _indexbus_sanitizers)
  add_compile_options(-fsanitize=${_indexbus_sanitizers} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${_indexbus_sanitizers})
  if("undefined" IN_LIST INDEXBUS_SANITIZE)
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  message(STATUS "indexbus: sanitizers ${_indexbus_sanitizers}")
endif()

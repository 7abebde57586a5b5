# Fails if the tree keeps a list of known deviations of the reference lanes: a case, scenario,
# generator, test or document that sets aside or expects behaviour the spec forbids, so that the
# reference "passes" (issue 15: "Add a test that fails if an exclusion list reappears"). Such a
# deviation is fixed, or its check is left failing and reported; it is never written down as
# expected. The phrases below are how every such list in this tree was written; a new one would
# use them again, or this guard must learn its words.
# Run with: cmake -DDIR=<root> [-DSKIP=<path>;<path>] -P check_no_exclusions.cmake
if(NOT DEFINED DIR OR NOT IS_DIRECTORY "${DIR}")
  message(FATAL_ERROR "check_no_exclusions: DIR '${DIR}' is not a directory")
endif()
file(GLOB_RECURSE files LIST_DIRECTORIES false
     "${DIR}/*.md" "${DIR}/*.hpp" "${DIR}/*.cpp" "${DIR}/*.h" "${DIR}/*.c" "${DIR}/*.cmake"
     "${DIR}/*.txt" "${DIR}/*.sh" "${DIR}/*.json" "${DIR}/*.py" "${DIR}/run")
# Case-insensitive: a regex with both cases of each letter.
set(phrases "known finding" "open finding" "known gap" "known deviation" "expected deviation"
            "is_known_finding" "kKnownFindings" "exclusion list")
set(bad "")
set(count 0)
foreach(file IN LISTS files)
  if(file MATCHES "/(build|\\.git|node_modules)/" OR file STREQUAL "${CMAKE_CURRENT_LIST_FILE}")
    continue()
  endif()
  set(skipped FALSE)
  foreach(skip IN LISTS SKIP)
    string(FIND "${file}" "${skip}" at)
    if(at EQUAL 0)
      set(skipped TRUE)
    endif()
  endforeach()
  if(skipped)
    continue()
  endif()
  math(EXPR count "${count} + 1")
  file(READ "${file}" text)
  string(TOLOWER "${text}" lower)
  foreach(phrase IN LISTS phrases)
    string(TOLOWER "${phrase}" p)
    string(FIND "${lower}" "${p}" at)
    if(NOT at EQUAL -1)
      string(SUBSTRING "${text}" ${at} 80 context)
      string(REPLACE "\n" " " context "${context}")
      string(APPEND bad "\n  ${file}: '${phrase}': ...${context}...")
    endif()
  endforeach()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "check_no_exclusions: no files under ${DIR}")
endif()
if(bad)
  message(FATAL_ERROR "an exclusion list (a known deviation of the reference, set aside or expected) is back:${bad}\n"
                      "Fix the reference, or leave the check failing and report it; never write the deviation down as expected.")
endif()
message(STATUS "check_no_exclusions: ${count} files under ${DIR}, no exclusion list")

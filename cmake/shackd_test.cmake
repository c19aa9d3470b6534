# shackd_test(): every test registered in one place, in one form (tests/CMakeLists.txt).
#
#   shackd_test(NAME <name> LABEL unit|e2e|scenario COMMAND <command> [<arg>...]
#               [TREES native asan tsan cross]  the trees that run it (default: native asan cross)
#               [TIMEOUT <s>]                   CTest's limit (default 300 s: a unit suite under qemu-user is 5-20x slower)
#               [COST <n>]                      start order when CTest has no timings (larger first)
#               [NEEDS <target>...]             what it runs besides its own command (shackd, shackd-sim)
#               [PASS_REGEX <re>] [ENV <var=value>...] [RESOURCE_LOCK <name>...])
#
# LABEL: `unit` is the inner loop (in process, or the CLI against files; no broker; seconds, run
# by `scripts/test.sh quick`); `e2e` starts processes (a broker, the simulator, the daemon, a
# real or accelerated clock); `scenario` is a whole simulated day.
# TREES: `native` is the GCC tree with -Werror; `asan` clang with ASan+UBSan+LSan; `tsan`
# ThreadSanitizer; `cross` a Pi's architecture under qemu-user. In a tree that is not listed the
# test is still registered, as "Not Run (Disabled)", so that every gap shows in every report.
# Every test sees BUILD (this tree) and SRC (the source tree) in its environment.
# The target `tree_tests` builds what this tree's enabled tests run (the TSan tree builds only it);
# `unit_tests` what its enabled `unit` tests run (the armhf trixie tree: scripts/cross.sh --unit).

if(SHACKD_TSAN)
  set(SHACKD_TREE tsan)
elseif(SHACKD_SANITIZE)
  set(SHACKD_TREE asan)
elseif(CMAKE_CROSSCOMPILING)
  set(SHACKD_TREE cross)
else()
  set(SHACKD_TREE native)
endif()
add_custom_target(tree_tests)
add_custom_target(unit_tests)

function(shackd_test)
  cmake_parse_arguments(PARSE_ARGV 0 T "" "NAME;LABEL;TIMEOUT;COST;PASS_REGEX"
                        "COMMAND;TREES;NEEDS;ENV;RESOURCE_LOCK")
  if(NOT T_NAME OR NOT T_COMMAND)
    message(FATAL_ERROR "shackd_test: NAME and COMMAND are required")
  endif()
  if(NOT T_LABEL MATCHES "^(unit|e2e|scenario)$")
    message(FATAL_ERROR "shackd_test(${T_NAME}): LABEL must be unit, e2e or scenario, not '${T_LABEL}'")
  endif()
  if(NOT T_TREES)
    set(T_TREES native asan cross)
  endif()
  foreach(tree IN LISTS T_TREES)
    if(NOT tree MATCHES "^(native|asan|tsan|cross)$")
      message(FATAL_ERROR "shackd_test(${T_NAME}): unknown tree '${tree}'")
    endif()
  endforeach()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()

  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set(env "BUILD=${PROJECT_BINARY_DIR}" "SRC=${PROJECT_SOURCE_DIR}" ${T_ENV})
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
  if(T_COST)
    set_tests_properties(${T_NAME} PROPERTIES COST ${T_COST})
  endif()
  if(T_PASS_REGEX)
    set_tests_properties(${T_NAME} PROPERTIES PASS_REGULAR_EXPRESSION "${T_PASS_REGEX}")
  endif()
  if(T_RESOURCE_LOCK)
    set_tests_properties(${T_NAME} PROPERTIES RESOURCE_LOCK "${T_RESOURCE_LOCK}")
  endif()

  if(NOT SHACKD_TREE IN_LIST T_TREES)
    set_tests_properties(${T_NAME} PROPERTIES DISABLED TRUE)
    return()
  endif()
  list(GET T_COMMAND 0 program)
  set(needs ${T_NEEDS})
  if(TARGET ${program})
    list(APPEND needs ${program})
  endif()
  if(needs)
    add_dependencies(tree_tests ${needs})
    if(T_LABEL STREQUAL "unit")
      add_dependencies(unit_tests ${needs})
    endif()
  endif()
endfunction()

# shackd_suite(NAME <name> TARGET <executable> LABEL <label> SOURCES <file_test.cpp>...
#              [HELPERS <file.cpp>...] [TREES ...] [TIMEOUT <s>] [NEEDS <target>...])
# A doctest suite: the executable built from SOURCES (and HELPERS, sources without test cases)
# with doctest's main, and one test per source file, `<name>.<file>` (`daemon.migrate` runs
# store/migrate_test.cpp's cases; a suite of one file is the test `<name>`), so that CTest runs a suite's files side by side: most of them
# wait (on a loopback device, a real clock), and the slowest file, not the sum, is the suite's
# time. The executable is the caller's to link.
function(shackd_suite)
  cmake_parse_arguments(PARSE_ARGV 0 S "" "NAME;TARGET;LABEL;TIMEOUT" "SOURCES;HELPERS;TREES;NEEDS")
  add_executable(${S_TARGET} $<TARGET_OBJECTS:doctest_main> ${S_SOURCES} ${S_HELPERS})
  set(forward LABEL ${S_LABEL} NEEDS ${S_TARGET} ${S_NEEDS})
  if(S_TREES)
    list(APPEND forward TREES ${S_TREES})
  endif()
  if(S_TIMEOUT)
    list(APPEND forward TIMEOUT ${S_TIMEOUT})
  endif()
  foreach(source IN LISTS S_SOURCES)
    # A file without a case would be a test that passes running nothing.
    file(STRINGS ${source} cases REGEX "^(TEST_CASE|SCENARIO|TEST_CASE_FIXTURE)\\(")
    if(NOT cases)
      message(FATAL_ERROR "shackd_suite(${S_NAME}): ${source} has no TEST_CASE; list it under HELPERS")
    endif()
    get_filename_component(file ${source} NAME)
    string(REGEX REPLACE "(_test)?\\.cpp$" "" short ${file})
    list(LENGTH S_SOURCES n)
    if(n EQUAL 1)
      set(name ${S_NAME})
    else()
      set(name ${S_NAME}.${short})
    endif()
    # doctest's -sf matches the path the compiler was given: the file's own name, after a slash.
    shackd_test(NAME ${name} COMMAND ${S_TARGET} "-sf=*/${file}" ${forward})
  endforeach()
endfunction()

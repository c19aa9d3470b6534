# Fails the build when a file in rules/ reaches outside the C++ standard library.
#
# Linking nothing third-party is not enough on Debian: sqlite3.h, modbus/modbus.h and
# yaml-cpp/yaml.h all sit under /usr/include and compile without any link flag. So every
# #include in rules/ must name either a rules/ header or a standard header from the list below,
# and no file may read a clock, print, or open a file. Run as:
#   cmake "-DFILES=a.cpp|b.hpp" -P check_rules_purity.cmake
set(allowed_std
  algorithm array bit cassert cmath charconv chrono cstddef cstdint cstring compare concepts
  initializer_list iterator limits numeric optional span string string_view system_error
  set type_traits utility vector)
set(forbidden_calls
  "steady_clock::now" "system_clock::now" "high_resolution_clock::now" "time(nullptr)"
  "time(NULL)" "std::cout" "std::cerr" "printf(" "fopen(" "getenv(" "std::rand" "std::random_device")

# rules/ knows kinds of inputs (voltage sources in ranked order, temperatures, PV, load), never
# a device: no brand, register or unit id, in code or comment (issue 13).
set(forbidden_words_regex
  "(^|[^a-z])(victron|sol-?ark|deye|sunsynk|tasmota|shelly|esphome|gx|modbus|registers?|unit ids?)([^a-z]|$)")

string(REPLACE "|" ";" FILES "${FILES}")
set(problems "")
foreach(file IN LISTS FILES)
  file(STRINGS "${file}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
      set(header "${CMAKE_MATCH_2}")
      if(CMAKE_MATCH_1 STREQUAL "\"" OR header MATCHES "^rules/")
        if(NOT header MATCHES "^rules/")
          list(APPEND problems "${file}:${n}: include \"${header}\" must be spelled \"rules/${header}\"")
        endif()
      else()
        list(FIND allowed_std "${header}" found)
        if(found EQUAL -1)
          list(APPEND problems "${file}:${n}: <${header}> is not allowed in rules/ (pure: standard headers only, see cmake/check_rules_purity.cmake)")
        endif()
      endif()
    endif()
    string(TOLOWER "${line}" lower)
    if(lower MATCHES "${forbidden_words_regex}")
      list(APPEND problems "${file}:${n}: '${CMAKE_MATCH_2}' names a device; rules/ knows kinds of inputs, the drivers know devices")
    endif()
    foreach(call IN LISTS forbidden_calls)
      string(FIND "${line}" "${call}" at)
      if(NOT at EQUAL -1)
        list(APPEND problems "${file}:${n}: '${call}' is I/O or a clock read; rules/ takes time and data as arguments")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  # Indented lines are printed as they are; CMake would otherwise re-wrap them.
  list(TRANSFORM problems PREPEND "  ")
  list(JOIN problems "\n" text)
  message(FATAL_ERROR "rules/ purity check failed:\n${text}")
endif()

# Fails the build when a component's file reaches back into the daemon's loop (issue 44: "no
# component reaches into another's state; the old Daemon only composes them"). The components
# (daemon/miners/, daemon/metrics/, ...) are handed what they need; the loop includes them, never
# the other way round. Every #include "..." of each file is checked against FORBIDDEN, a regex of
# header paths. Run as:
#   cmake "-DFILES=a.cpp|b.hpp" "-DFORBIDDEN=^daemon/(loop|cli)/" -P check_layers.cmake
# WHY (optional) is the rule said after each offending include; by default the components' rule.
# The safety core (daemon/core/) is checked with its own: it imports no side job (issue 44).
if(NOT DEFINED WHY)
  set(WHY "a component does not reach into the loop (it is handed what it needs; cmake/check_layers.cmake)")
endif()
string(REPLACE "|" ";" FILES "${FILES}")
set(problems "")
foreach(file IN LISTS FILES)
  file(STRINGS "${file}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header "${CMAKE_MATCH_1}")
      if(header MATCHES "${FORBIDDEN}")
        list(APPEND problems "${file}:${n}: include \"${header}\": ${WHY}")
      endif()
    endif()
  endforeach()
endforeach()
if(problems)
  list(TRANSFORM problems PREPEND "  ")
  list(JOIN problems "\n" text)
  message(FATAL_ERROR "layer check failed:\n${text}")
endif()

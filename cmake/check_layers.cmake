# Fails the build when a component's file reaches back into the daemon's loop (issue 44: "no
# component reaches into another's state; the old Daemon only composes them"). The components
# (daemon/miners/, daemon/metrics/, ...) are handed what they need; the loop includes them, never
# the other way round. Every #include "..." of each file is checked against FORBIDDEN, a regex of
# header paths. Run as:
#   cmake "-DFILES=a.cpp|b.hpp" "-DFORBIDDEN=^daemon/(loop|cli)/" -P check_layers.cmake
# WHY (optional) is the rule said after each offending include; by default the components' rule.
# The safety core (daemon/core/) is checked with its own: it imports no side job (issue 44).
# With PEERS instead of FORBIDDEN ("-DPEERS=events|host|..."), each file is checked against the
# peers but its own folder: components never include each other (issue 57), each may include its
# own folder. A file's folder is the last one of its path (daemon/metrics/collect.cpp: metrics).
if(NOT DEFINED WHY)
  set(WHY "a component does not reach into the loop (it is handed what it needs; cmake/check_layers.cmake)")
endif()
if(DEFINED PEERS)
  string(REPLACE "|" ";" PEERS "${PEERS}")
elseif(NOT DEFINED FORBIDDEN)
  message(FATAL_ERROR "check_layers.cmake: give FORBIDDEN or PEERS")
endif()
string(REPLACE "|" ";" FILES "${FILES}")
set(problems "")
foreach(file IN LISTS FILES)
  if(DEFINED PEERS)
    get_filename_component(dir "${file}" DIRECTORY)
    get_filename_component(own "${dir}" NAME)
    set(others ${PEERS})
    list(REMOVE_ITEM others "${own}")
    list(JOIN others "|" others)
    set(FORBIDDEN "^daemon/(${others})/")
  endif()
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

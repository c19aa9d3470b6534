# The daemon's folders by layer (docs/development.md, "Layout"), named once: the build's check
# (daemon/CMakeLists.txt) and the tests that prove it bites (tests/CMakeLists.txt) read these.
# Every folder of daemon/ is in one layer; the build refuses a folder in none. A folder includes
# its own layer's and those under it, never one above (issue 57: the drawing of daemon/'s imports
# shows no arrow up and no folder loop, and the build keeps it so).
#
# From the ground up:
# - ground: text/ (JSON writing, "did you mean", SHA-256), system/ (log, signals, sd_notify),
#   site/ (profiles and loads), reloader/ (the one-job thread). Peers: none includes another.
set(SHACKD_LAYER_ground text system site reloader)
# - data: store/ (SQLite) and config/ (YAML). Peers: the config knows no database.
set(SHACKD_LAYER_data store config)
# - devices/: the configured devices as the loop needs them (reads config/).
set(SHACKD_LAYER_devices devices)
# - core/: the safety core and its vocabulary (LoopStats, SideJob, the override checks); it has a
#   rule of its own besides (no side job, no database, not the loop).
set(SHACKD_LAYER_core core)
# - shared: vocab/, what the components share (a cycle's facts and view, the MQTT texts, the
#   uplink's words, a miner's state).
set(SHACKD_LAYER_shared vocab)
# - components (issue 57): side jobs with one face each. Peers: none includes another; what two
#   share goes down, into vocab/ or a lower layer.
set(SHACKD_LAYER_components events host intake metrics miners publish recorder report shadow)
# - loop/ composes the components; cli/ is main and the subcommands.
set(SHACKD_LAYER_loop loop)
set(SHACKD_LAYER_cli cli)
set(SHACKD_LAYERS ground data devices core shared components loop cli)  # bottom up
set(SHACKD_PEER_LAYERS ground data components)  # whose folders never include each other

set(SHACKD_COMPONENTS ${SHACKD_LAYER_components})
list(JOIN SHACKD_COMPONENTS "|" SHACKD_COMPONENTS_ARG)

# The folders of the layers above `layer`, as a check_layers.cmake FORBIDDEN regex (empty at the top).
function(shackd_layers_above layer out)
  list(FIND SHACKD_LAYERS ${layer} at)
  list(LENGTH SHACKD_LAYERS n)
  set(above "")
  math(EXPR i "${at} + 1")
  while(i LESS n)
    list(GET SHACKD_LAYERS ${i} name)
    list(APPEND above ${SHACKD_LAYER_${name}})
    math(EXPR i "${i} + 1")
  endwhile()
  if(above)
    list(JOIN above "|" above)
    set(${out} "^daemon/(${above})/" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# The daemon's folders by layer (docs/development.md, "What owns what"), named once: the build's
# check (daemon/CMakeLists.txt) and the tests that prove it bites (tests/CMakeLists.txt) read these.
# Every folder of daemon/ is in one list, or is loop/ or cli/; the build refuses a folder in none.
#
# The components (issue 57): side jobs with one face each, peers that never include each other.
# What two of them share goes down, into daemon/vocab/ or a lower layer.
set(SHACKD_COMPONENTS events host intake metrics miners publish recorder report)
# Under them, what every component may include; none of these includes a component, the loop or
# the CLI. From the ground up: text/ (JSON writing, "did you mean"), system/ (log, signals,
# sd_notify), site/ (profiles and loads), reloader/ (the one-job thread), store/ (SQLite),
# config/ (YAML), devices/ (the registry, device alarms), core/ (the safety core), vocab/ (what the
# components share: a cycle's facts and view, the MQTT texts, the uplink's topics).
set(SHACKD_LOWER_LAYERS text system site reloader store config devices core vocab)
# Over them all: loop/ (composes the components) and cli/ (main and the subcommands).
set(SHACKD_TOP_LAYERS loop cli)
# The components' rule for the check (cmake/check_layers.cmake, PEERS): a component's folder may
# not be named by another component's include.
list(JOIN SHACKD_COMPONENTS "|" SHACKD_COMPONENTS_ARG)

// Not compiled: the layer check (cmake/check_layers.cmake, PEERS of the data layer) must refuse
// this file, the config reaching into the database (issue 57: config -> store); its own folder and
// the ground it may include.
#include "daemon/config/yaml_read.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/text/sha256.hpp"

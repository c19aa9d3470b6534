// Not compiled: the layer check (cmake/check_layers.cmake, with the layers above vocab/ from
// cmake/daemon_layers.cmake) must refuse this file, the components' shared words reaching up into
// a component; the core under it it may include.
#include "daemon/core/loop_stats.hpp"
#include "daemon/publish/publisher.hpp"

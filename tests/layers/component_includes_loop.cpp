// Not compiled: the layer check (cmake/check_layers.cmake) must refuse this file, a component
// that reaches into the loop.
#include "daemon/loop/daemon.hpp"

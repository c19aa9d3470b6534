// Not compiled: the layer check (cmake/check_layers.cmake, PEERS) must refuse this file, a
// component (metrics) that includes another (the publisher); its own folder it may include.
#include "daemon/metrics/frame.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/vocab/cycle_view.hpp"

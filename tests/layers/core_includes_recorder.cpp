// Not compiled: the layer check (cmake/check_layers.cmake) must refuse this file, the safety core
// reaching into a side job.
#include "daemon/recorder/recorder.hpp"

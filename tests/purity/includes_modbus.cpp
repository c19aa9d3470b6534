// Fixture for the rules purity check: a rules/ file must not include a device library.
#include <modbus.h>

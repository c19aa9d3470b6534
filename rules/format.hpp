#pragma once
// Number formatting without <cstdio>: rules/ may build messages, never print them.
#include <string>

namespace rules {

// "52.30" for (52.3, 2). NaN renders as "n/a".
std::string format_fixed(double value, int decimals);

}  // namespace rules

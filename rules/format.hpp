#pragma once
// Number formatting without <cstdio>: rules/ may build messages, never print them.
#include <string>

namespace rules {

// "52.30" for (52.3, 2). NaN renders as "n/a".
std::string format_fixed(double value, int decimals);
// The shortest text that reads back as the same double, with at least one decimal: "55.0",
// "54.5", "52.35". For messages that quote a user's value.
std::string format_value(double value);

}  // namespace rules

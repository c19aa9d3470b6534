// Fixture for the rules purity check: a rules/ file must not read the clock.
#include <chrono>
auto t = std::chrono::steady_clock::now();

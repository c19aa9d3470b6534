// Fixture for the rules symbol check: the clock read behind an alias, which the text check does
// not see ("C::now()"), must still fail the build when it is compiled into rules/.
#include <chrono>
#include <fstream>

long long clock_alias_ticks() {
  using C = std::chrono::steady_clock;
  return C::now().time_since_epoch().count();
}

bool clock_alias_file() { return std::ifstream("/etc/hostname").good(); }

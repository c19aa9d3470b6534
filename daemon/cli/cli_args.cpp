#include "daemon/cli/cli_args.hpp"

#include <fmt/format.h>

#include <charconv>

namespace shackd {

int Args::get_int(const std::string& name, int fallback, int min, int max) const {
  const auto it = values.find(name);
  if (it == values.end()) return fallback;
  int v = 0;
  const auto& s = it->second;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) {
    throw UsageError(fmt::format("{} '{}': expected a whole number from {} to {}", name, s, min, max));
  }
  return v;
}

Args parse_args(const std::string& command, const std::vector<std::string>& argv,
                const std::set<std::string>& with_value, const std::set<std::string>& flags) {
  Args args;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (flags.count(a)) {
      args.flags.insert(a);
    } else if (with_value.count(a)) {
      if (i + 1 >= argv.size()) throw UsageError(fmt::format("{}: {} needs a value", command, a));
      if (args.values.count(a)) throw UsageError(fmt::format("{}: {} is given twice", command, a));
      args.values[a] = argv[++i];
    } else {
      throw UsageError(fmt::format("{}: unknown argument '{}' (see {} --help)", command, a, command));
    }
  }
  return args;
}

}  // namespace shackd

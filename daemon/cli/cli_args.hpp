#pragma once
// A small, strict command-line reader: known options only, each error names the option.
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/system/exit_codes.hpp"

namespace shackd {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  std::map<std::string, std::string> values;  // --db PATH
  std::set<std::string> flags;                // --dry-run
  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::string get(const std::string& name, const std::string& fallback) const {
    const auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  int get_int(const std::string& name, int fallback, int min, int max) const;
};

// `with_value` options take the next argument; `flags` take none. Throws UsageError.
Args parse_args(const std::string& command, const std::vector<std::string>& argv,
                const std::set<std::string>& with_value, const std::set<std::string>& flags);

}  // namespace shackd

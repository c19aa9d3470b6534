#pragma once
// `shackd migrate`, `shackd db check`, `shackd profiles export|apply`.
#include <string>
#include <vector>

namespace shackd {

inline constexpr const char* kDefaultDbPath = "/var/lib/shackd/shackd.db";

int cmd_migrate(const std::vector<std::string>& argv);
int cmd_db(const std::vector<std::string>& argv);
int cmd_profiles(const std::vector<std::string>& argv);

}  // namespace shackd

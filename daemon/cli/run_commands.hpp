#pragma once
// The commands that start the controller: `shackd run` (the service), `shackd once` (one poll and
// one decision, printed) and `shackd check` (the config and the database, every error at once).
#include <string>
#include <vector>

namespace shackd {

int cmd_run(const std::vector<std::string>& argv);
int cmd_once(const std::vector<std::string>& argv);
int cmd_check(const std::vector<std::string>& argv);

}  // namespace shackd

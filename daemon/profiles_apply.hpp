#pragma once
// Applying the YAML config's profiles to the database: all or nothing, recorded in
// config_history. A rejected YAML leaves the profiles in force exactly as they were.
#include <string>
#include <vector>

#include "daemon/sqlite.hpp"

namespace shackd {

enum class ApplyOutcome { applied, unchanged, rejected, absent };
const char* outcome_name(ApplyOutcome o);

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::absent;
  int rows_written = 0;
  std::vector<std::string> errors;  // for rejected: every problem, each naming profile, field and rule
  std::string sha256;               // of the YAML text
};

// `yaml_text` is a whole config file; only its `profiles:` key is read. `source` names it in
// messages and in config_history.
ApplyResult apply_profiles(db::Db& db, const std::string& yaml_text, const std::string& source);

}  // namespace shackd

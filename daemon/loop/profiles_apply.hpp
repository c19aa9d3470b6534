#pragma once
// Applying the YAML config's profiles to the database: all or nothing, recorded in
// config_history. A rejected YAML leaves the profiles in force exactly as they were.
#include <string>
#include <vector>

#include "daemon/store/sqlite.hpp"

namespace shackd {

enum class ApplyOutcome { applied, unchanged, rejected, absent };
const char* outcome_name(ApplyOutcome o);

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::absent;
  int rows_written = 0;
  std::vector<std::string> errors;  // for rejected: every problem, each naming profile, field and rule
  std::string sha256;               // of the YAML text
  std::vector<std::string> changes; // for applied: each profile added, removed or changed (profiles_diff)
  std::string backup_path;          // taken before a profile was removed
};

// `yaml_text` is a whole config file; only its `profiles:` key is read. `source` names it in
// messages and in config_history. Before a profile is removed, the database is backed up beside
// itself (keeping the newest `keep_backups`).
ApplyResult apply_profiles(db::Db& db, const std::string& yaml_text, const std::string& source, int keep_backups = 3);

}  // namespace shackd

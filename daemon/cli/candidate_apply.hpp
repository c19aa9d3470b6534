#pragma once
// `shackd profiles apply --candidate --file CONFIG` (issue 60, part 2): the candidate profile the
// owner is convinced by made the one in force. Its changes (the config's loop.candidate) are
// written to the database's profiles as a setting over MQTT is (save_profile_change, recorded in
// config_history), all or nothing; a change of a key the config's profiles: section gives itself
// is refused, naming its line (a restart would put the file's value back).
#include <string>

#include "daemon/store/sqlite.hpp"

namespace shackd {

// Returns the exit code; prints what it did or why it refused. Throws db::Error.
int apply_candidate(db::Db& db, const std::string& config_file);

}  // namespace shackd

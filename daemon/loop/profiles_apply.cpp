#include "daemon/loop/profiles_apply.hpp"

#include <fmt/format.h>

#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/config/yaml_read.hpp"
#include "daemon/store/backup.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/text/sha256.hpp"

namespace shackd {

const char* outcome_name(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::applied: return "applied";
    case ApplyOutcome::unchanged: return "unchanged";
    case ApplyOutcome::rejected: return "rejected";
    case ApplyOutcome::absent: return "absent";
  }
  return "absent";
}

namespace {

// One row per distinct config: a YAML applied again unchanged writes nothing (SD card).
void record(db::Db& db, const ApplyResult& r, const std::string& source) {
  auto last = db.prepare("SELECT sha256, outcome FROM config_history ORDER BY id DESC LIMIT 1");
  if (last.step() && last.text(0) == r.sha256 &&
      (last.text(1) == outcome_name(r.outcome) || r.outcome == ApplyOutcome::unchanged)) {
    return;
  }
  auto ins = db.prepare("INSERT INTO config_history (sha256, source, outcome, message) VALUES (?, ?, ?, ?)");
  ins.bind(1, r.sha256).bind(2, source).bind(3, outcome_name(r.outcome));
  ins.bind(4, fmt::format("{}", fmt::join(r.errors, "\n"))).run();
}

}  // namespace

ApplyResult apply_profiles(db::Db& db, const std::string& yaml_text, const std::string& source, int keep_backups) {
  ApplyResult result;
  result.sha256 = sha256_hex(yaml_text);
  yaml::Errors errors;
  const auto root = yaml::parse(yaml_text, source, errors);
  if (root && !root->IsMap() && !root->IsNull()) errors.add(source, *root, "expected a map of sections");
  if (!errors.empty()) {
    result.outcome = ApplyOutcome::rejected;
    result.errors = errors.list();
  } else if (!root || root->IsNull() || !(*root)["profiles"]) {
    return result;  // absent: nothing to apply
  }

  if (result.outcome != ApplyOutcome::rejected && db.path() != ":memory:" && !db.path().empty()) {
    // A removal loses a profile's settings for good: a copy first. It cannot be taken inside the
    // write transaction (SQLite refuses to back up from a connection that is writing), so it is
    // taken here, from the profiles as they are now.
    const StoredProfiles now = load_profiles(db);
    StoredProfiles next = now;
    if (overlay_profiles((*root)["profiles"], next, "profiles").empty() && diff_profiles(now, next).removes()) {
      result.backup_path = backup_beside(db, static_cast<int>(db.scalar_int("PRAGMA user_version")), keep_backups);
    }
  }
  db::Transaction tx(db);
  if (result.outcome != ApplyOutcome::rejected) {
    // Read again under the write lock: what is saved is against the database as it is now.
    const StoredProfiles before = load_profiles(db);
    StoredProfiles next = before;
    result.errors = overlay_profiles((*root)["profiles"], next, "profiles");
    if (result.errors.empty()) result.changes = diff_profiles(before, next).lines;
    if (!result.errors.empty()) {
      result.outcome = ApplyOutcome::rejected;
    } else {
      // A savepoint, so that a refusal by the schema's CHECKs (the second line of defence) undoes
      // every row of this YAML but keeps the transaction for the config_history record.
      db.exec("SAVEPOINT apply_profiles");
      try {
        result.rows_written = save_profiles(db, next, before);
        db.exec("RELEASE apply_profiles");
        result.outcome = result.rows_written > 0 ? ApplyOutcome::applied : ApplyOutcome::unchanged;
      } catch (const db::Error& e) {
        if (e.locked()) throw;
        db.exec("ROLLBACK TO apply_profiles");
        db.exec("RELEASE apply_profiles");
        result.outcome = ApplyOutcome::rejected;
        result.errors = {fmt::format("{}: the database refused the profiles: {}", source, e.what())};
        result.rows_written = 0;
        result.changes.clear();
      }
    }
  }
  record(db, result, source);
  tx.commit();
  return result;
}

}  // namespace shackd

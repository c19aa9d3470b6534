#include "daemon/cli/store_commands.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "daemon/cli/candidate_apply.hpp"
#include "daemon/cli/cli_args.hpp"
#include "daemon/config/config.hpp"
#include "daemon/loop/profiles_apply.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd {

namespace {

// Runs a store command body with the failures every one of them can meet, each to its exit code.
template <typename Body>
int guarded(const std::string& command, Body body) {
  try {
    return body();
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  } catch (const MigrationError& e) {
    fmt::print(stderr, "{}: refused:\n{}\n", command, e.what());
    return kExConfig;
  } catch (const db::Error& e) {
    fmt::print(stderr, "{}: {}\n", command, e.what());
    if (e.locked()) {
      fmt::print(stderr, "{}: another process holds the database; try again when it is done\n", command);
      return kExTempFail;
    }
    if ((e.code() & 0xff) == SQLITE_CANTOPEN) return kExNoInput;
    return kExDataErr;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", command, e.what());
    return kExSoftware;
  }
}

// The database: --db, else the one --config names, else the packaged default.
std::string db_path(const Args& args) {
  if (args.values.count("--db")) return args.get("--db", kDefaultDbPath);
  const std::string config = args.get("--config", "");
  if (config.empty()) return kDefaultDbPath;
  const ConfigResult c = load_config(config);
  if (!c.config) {
    throw UsageError(fmt::format("{} has {} error(s), so its database.path is not known: {} (or give --db)", config,
                                 c.errors.size(), c.errors.empty() ? "" : c.errors.front()));
  }
  return c.config->database_path;
}

std::vector<Migration> migration_set(const Args& args) {
  const std::string dir = args.get("--schema-dir", "");
  return dir.empty() ? embedded_migrations() : migrations_from_dir(dir);
}

}  // namespace

int cmd_migrate(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd migrate [--db PATH | --config FILE] [--dry-run] [--schema-dir DIR] [--keep-backups N]\n"
        "  Lists the pending schema migrations and applies them, each in its own transaction.\n"
        "  A database that holds data is first backed up beside itself (PATH.bak-<time>-v<version>);\n"
        "  the newest N backups are kept (default 3).\n"
        "  --db PATH         the database (default {})\n"
        "  --dry-run         list what would be applied, change nothing\n"
        "  --schema-dir DIR  use DIR/*.sql instead of the migrations built into shackd\n",
        kDefaultDbPath);
    return kExOk;
  }
  return guarded("shackd migrate", [&] {
    const Args args = parse_args("shackd migrate", argv, {"--db", "--config", "--schema-dir", "--keep-backups"}, {"--dry-run"});
    const std::string path = db_path(args);
    MigrateOptions options;
    options.dry_run = args.has("--dry-run");
    options.keep_backups = args.get_int("--keep-backups", 3, 1, 100);
    const auto set = migration_set(args);
    db::Db db(path, {.create = !options.dry_run});
    const MigrateResult r = migrate(db, set, options);
    fmt::print("database {}: schema version {}\n", path, r.plan.db_version);
    if (r.plan.pending.empty()) {
      fmt::print("up to date: nothing to apply\n");
      return kExOk;
    }
    for (const Migration* m : r.plan.pending) {
      fmt::print("{} {}  sha256 {}\n", options.dry_run ? "pending" : "applied", m->name, m->sha256);
    }
    if (r.backup_path) fmt::print("backup: {}\n", *r.backup_path);
    if (!options.dry_run) fmt::print("database {}: now at schema version {}\n", path, r.applied.back());
    return kExOk;
  });
}

int cmd_db(const std::vector<std::string>& argv) {
  const bool help = argv.empty() || argv[0] == "--help" || (argv.size() > 1 && argv[1] == "--help");
  if (help || argv[0] != "check") {
    fmt::print(help ? stdout : stderr,
               "usage: shackd db check [--db PATH | --config FILE] [--schema-dir DIR]\n"
               "  Checks the database: PRAGMA integrity_check, PRAGMA foreign_key_check, and that its schema\n"
               "  matches this shackd's migrations. Exit 0 when all is well, 65 when the data is damaged,\n"
               "  78 when the schema needs `shackd migrate` or was edited.\n");
    return help ? kExOk : kExUsage;
  }
  return guarded("shackd db check", [&] {
    const Args args = parse_args("shackd db check", {argv.begin() + 1, argv.end()}, {"--db", "--config", "--schema-dir"}, {});
    const std::string path = db_path(args);
    db::Db db(path, {.read_only = true});
    int rc = kExOk;

    std::vector<std::string> integrity;
    for (auto s = db.prepare("PRAGMA integrity_check"); s.step();) integrity.push_back(s.text(0));
    if (integrity.size() == 1 && integrity[0] == "ok") {
      fmt::print("integrity_check: ok\n");
    } else {
      fmt::print("integrity_check: FAILED\n  {}\n", fmt::join(integrity, "\n  "));
      rc = kExDataErr;
    }
    int fk = 0;
    for (auto s = db.prepare("PRAGMA foreign_key_check"); s.step(); ++fk) {
      fmt::print("foreign_key_check: {} row {} refers to a missing {}\n", s.text(0), s.integer(1), s.text(2));
    }
    if (fk == 0) fmt::print("foreign_key_check: ok\n");
    else rc = kExDataErr;

    const MigrationPlan plan = plan_migrations(db, migration_set(args));
    for (const auto& p : plan.problems) fmt::print("schema: {}\n", p);
    if (plan.problems.empty() && plan.pending.empty()) {
      fmt::print("schema: version {}, current\n", plan.db_version);
    } else if (plan.problems.empty()) {
      fmt::print("schema: version {}, {} migration(s) pending: run `shackd migrate --db {}`\n", plan.db_version,
                 plan.pending.size(), path);
    }
    if (plan.problems.empty()) {
      // Each table, index and trigger as the migrations make it: a table dropped by hand passed.
      const auto differences = schema_differences(db, migration_set(args));
      for (const auto& d : differences) fmt::print("schema: {}\n", d);
      if (!differences.empty() && rc == kExOk) rc = kExConfig;
    }
    if (rc == kExOk && (!plan.problems.empty() || !plan.pending.empty())) rc = kExConfig;
    return rc;
  });
}

int cmd_profiles(const std::vector<std::string>& argv) {
  const std::string sub = argv.empty() ? "" : argv[0];
  const bool help = sub.empty() || sub == "--help" || (argv.size() > 1 && argv[1] == "--help");
  if (help || (sub != "export" && sub != "apply")) {
    fmt::print(help ? stdout : stderr,
               "usage: shackd profiles export [--db PATH | --config FILE]\n"
               "         prints the database's profiles as YAML to paste into the config's profiles: section\n"
               "       shackd profiles apply --file CONFIG [--db PATH]\n"
               "         applies CONFIG's profiles: section, all or nothing: the miners and zones it lists\n"
               "         are the site's (one it does not name is removed, after a backup); keys it leaves\n"
               "         out keep their database values. --db defaults to CONFIG's database.path\n"
               "       shackd profiles apply --candidate --file CONFIG [--db PATH]\n"
               "         makes CONFIG's loop.candidate the profiles in force: its changes written to the\n"
               "         database, all or nothing (refused where the profiles: section gives the key itself)\n");
    return help ? kExOk : kExUsage;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (sub == "export") {
    return guarded("shackd profiles export", [&] {
      const Args args = parse_args("shackd profiles export", rest, {"--db", "--config"}, {});
      const std::string path = db_path(args);
      db::Db db(path, {.read_only = true});
      require_current(db, embedded_migrations());
      fmt::print("{}", export_profiles_yaml(load_profiles(db), "shackd profiles, exported from " + path));
      return kExOk;
    });
  }
  return guarded("shackd profiles apply", [&] {
    const Args args = parse_args("shackd profiles apply", rest, {"--db", "--file"}, {"--candidate"});
    const std::string file = args.get("--file", "");
    if (file.empty()) throw UsageError("shackd profiles apply: --file CONFIG is required");
    if (args.has("--candidate")) {
      std::string path = args.get("--db", "");
      if (path.empty()) {
        const ConfigResult c = load_config(file);
        path = c.config ? c.config->database_path : kDefaultDbPath;
      }
      db::Db db(path);
      require_current(db, embedded_migrations());
      return apply_candidate(db, file);
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "shackd profiles apply: cannot read {}\n", file);
      return kExNoInput;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string path = args.get("--db", "");
    if (path.empty()) {
      const ConfigResult c = load_config(file);  // a whole config names its database
      path = c.config ? c.config->database_path : kDefaultDbPath;
    }
    db::Db db(path);
    require_current(db, embedded_migrations());
    const ApplyResult r = apply_profiles(db, text.str(), file);
    if (r.outcome == ApplyOutcome::rejected) {
      fmt::print(stderr, "shackd profiles apply: {} was refused; the profiles in force are unchanged:\n  {}\n", file,
                 fmt::join(r.errors, "\n  "));
      return kExDataErr;
    }
    if (r.outcome == ApplyOutcome::absent) {
      fmt::print("{} has no profiles: section; nothing to apply\n", file);
    } else {
      fmt::print("{}: {} ({} row(s) written)\n", file, outcome_name(r.outcome), r.rows_written);
      for (const auto& c : r.changes) fmt::print("  {}\n", c);
      if (!r.backup_path.empty()) fmt::print("backup before removing profiles: {}\n", r.backup_path);
    }
    return kExOk;
  });
}

}  // namespace shackd

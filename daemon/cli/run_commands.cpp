#include "daemon/cli/run_commands.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <sqlite3.h>

#include <pwd.h>

#include <chrono>
#include <filesystem>

#include "daemon/cli/cli_args.hpp"
#include "daemon/cli/once_table.hpp"
#include "daemon/cli/relay_power_on.hpp"
#include "daemon/config/ac_sources.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/loop/daemon.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/system/access.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/signals.hpp"

namespace shackd {

namespace {
// The profiles a database made now would hold (the built-in migrations, in memory).
StoredProfiles new_database_profiles() {
  db::Db mem(":memory:", {.create = true});
  migrate(mem, embedded_migrations());
  return load_profiles(mem);
}

const char* kRunHelp =
    "usage: shackd run [--config FILE] [--dry-run] [--shadow] [--debug]\n"
    "  Runs the controller: polls the devices, decides, switches relays over MQTT, publishes and\n"
    "  records. SIGHUP reloads the config (an invalid one is refused and the old one kept);\n"
    "  SIGTERM stops after the current cycle.\n"
    "  --config FILE  (default /etc/shackd/shackd.yaml)\n"
    "  --dry-run      decide and publish, but send no relay command\n"
    "  --shadow       beside another controller: decide, command nothing (no relay command or\n"
    "                 question, no Modbus write, no miner API), record where shackd's decisions\n"
    "                 and the relays' reported states differ (as loop.shadow: true)\n"
    "  --debug        log debug lines too\n";
}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print("{}", kRunHelp);
    return kExOk;
  }
  RunOptions o;
  try {
    const Args a = parse_args("shackd run", argv, {"--config"}, {"--dry-run", "--shadow", "--debug"});
    o.config_path = a.get("--config", "/etc/shackd/shackd.yaml");
    o.dry_run = a.has("--dry-run");
    o.shadow = a.has("--shadow");
    log::set_debug(a.has("--debug"));
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  }
  signals::install();
  // Two malloc arenas are plenty for shackd's few threads; one per thread costs RSS on a Pi.
  mallopt(M_ARENA_MAX, 2);
  Daemon d(o);
  if (const auto rc = d.start()) return *rc;
  return d.run();
}

int cmd_once(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print("usage: shackd once [--config FILE] [--sensor-wait-s N]\n  One poll and one decision, printed as a table. "
               "Nothing is actuated or published.\n  --sensor-wait-s N  listen up to N s (default 5) for the MQTT sensors' "
               "live reports first\n");
    return kExOk;
  }
  RunOptions o;
  o.once = true;
  try {
    const Args a = parse_args("shackd once", argv, {"--config", "--sensor-wait-s"}, {});
    o.config_path = a.get("--config", "/etc/shackd/shackd.yaml");
    o.once_sensor_wait = std::chrono::seconds(a.get_int("--sensor-wait-s", 5, 0, 600));
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  }
  Daemon d(o);
  if (const auto rc = d.start()) return *rc;  // the MQTT sensors listened for (RunOptions::once_sensor_wait)
  d.cycle();
  fmt::print("{}", once_table({d.loop().snapshot(), d.loop().decision(), d.loop().profiles(), d.loop().loads(), d.loop().alarms().device_alarms()}));
  return kExOk;
}

int cmd_check(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print("usage: shackd check [--config FILE] [--as USER] [--broker]\n  Validates the config and the database: every "
               "error with its YAML path and line.\n  --as USER  the user the service runs as, who must be able to write "
               "the database and its\n             directory (default: shackd, where that user exists)\n"
               "  --broker   also asks each relay over the broker how it powers up after a power cut, and warns\n"
               "             of one that would switch its load back ON by itself (fix: shackd relays power-on-off)\n"
               "  Exit 0 when both are good, 78 (EX_CONFIG) otherwise.\n");
    return kExOk;
  }
  std::string path, service_user;
  bool broker = false;
  try {
    const Args a = parse_args("shackd check", argv, {"--config", "--as"}, {"--broker"});
    path = a.get("--config", "/etc/shackd/shackd.yaml");
    broker = a.has("--broker");
    service_user = a.get("--as", getpwnam("shackd") ? "shackd" : "");
    if (!service_user.empty() && !getpwnam(service_user.c_str())) throw UsageError("--as '" + service_user + "': no such user");
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  }
  const ConfigResult c = load_config(path);
  std::vector<std::string> errors = c.errors;
  if (c.config && !service_user.empty() && c.config->database_path != ":memory:") {
    // `check` runs as root, who may write anywhere: what counts is the user the service runs as
    // (issue 48: a state directory the daemon could not write passed).
    const std::filesystem::path db(c.config->database_path);
    for (const auto& p : {db.parent_path().empty() ? std::filesystem::path(".") : db.parent_path(), db}) {
      if (const auto why = write_problem_for(p.string(), service_user); !why.empty()) {
        errors.push_back(fmt::format("database.path '{}': {}, the user the service runs as (sudo chown {}:{} {})",
                                     c.config->database_path, why, service_user, service_user, p.string()));
      }
    }
  }
  if (!c.config && c.profiles) {
    // The rest of the file has errors: still list the profiles: section's, against the profiles
    // a new database starts with (type, key and rule errors do not depend on the database).
    try {
      StoredProfiles p = new_database_profiles();
      for (const auto& e : overlay_profiles(*c.profiles, p, "profiles")) errors.push_back(e);
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  if (c.config) {
    for (const auto& e : check_files(*c.config)) errors.push_back(e);
    // The database as it is, with the config's profiles laid over it, in memory: nothing is written.
    try {
      StoredProfiles p;
      bool have_db = false;
      try {
        db::Db db(c.config->database_path, {.read_only = true});
        require_current(db, embedded_migrations());
        p = load_profiles(db);
        have_db = true;
      } catch (const db::Error& e) {
        if ((e.code() & 0xff) != SQLITE_CANTOPEN) throw;
        // No database yet: check against the built-in defaults it will be created with.
        p = new_database_profiles();
      }
      const StoredProfiles before = p;
      if (c.config->profiles) {
        for (const auto& e : overlay_profiles(*c.config->profiles, p, "profiles")) errors.push_back(e);
      }
      if (errors.empty()) {
        for (const auto& e : check_references(*c.config, p)) errors.push_back(e);
      }
      if (errors.empty()) {
        fmt::print("{}: ok ({} relay(s), {} sensor(s), {} miner(s), {} zone(s); database {})\n", path,
                   c.config->relays.size(), c.config->sensors.size(), p.rules.miners.size(), p.rules.zones.size(),
                   have_db ? c.config->database_path : "not created yet");
        for (const auto& line : devices::describe(*c.config)) fmt::print("{}\n", line);
        fmt::print("thresholds in force after each load's mode and margins:\n");
        for (const auto& line : effective_threshold_lines(p)) fmt::print("  {}\n", line);
        for (const auto& w : c.config->device_warnings) fmt::print("warning: {}\n", w);
        for (const auto& w : charge_block_warnings(*c.config)) fmt::print("warning: {}\n", w);
        for (const auto& w : tls_warnings(*c.config)) fmt::print("warning: {}\n", w);
        for (const auto& id : unused_relays(*c.config, p)) {
          fmt::print("warning: relays.{} is defined but no profile switches it\n", id);
        }
        // Not a refusal: holding a start until there is room is the budget's job (issue 59).
        for (const auto& n : ac_source_notes(*c.config, p)) fmt::print("note: {}\n", n);
        // Read-only: each relay is asked how it powers up (docs/protocols.md §1.6).
        if (broker) {
          for (const auto& line : power_on_check_lines(*c.config, survey_power_on(*c.config, {}, false, std::chrono::seconds(10)))) {
            fmt::print("{}\n", line);
          }
        }
        const ProfileChanges changes = diff_profiles(before, p);
        if (!changes.empty()) {
          fmt::print("applying the profiles: section will change the {}:\n",
                     have_db ? "database" : "built-in example profiles a new database starts with");
          for (const auto& line : changes.lines) fmt::print("  {}\n", line);
          if (changes.removes() && have_db) fmt::print("  (a backup of the database is taken before a profile is removed)\n");
        }
      }
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  if (errors.empty()) return kExOk;
  fmt::print(stderr, "{}: {} error(s):\n", path, errors.size());
  for (const auto& e : errors) fmt::print(stderr, "  {}\n", e);
  return kExConfig;
}

}  // namespace shackd

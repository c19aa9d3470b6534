// Applying the YAML config's profiles to SQLite: all or nothing, with plain messages.
#include "tests/store/fixture.hpp"

#include "daemon/loop/profiles_apply.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/config/config.hpp"
#include "daemon/store/profile_store.hpp"
#include "tests/support/lookups.hpp"
#include "tests/support/alias_bomb.hpp"

using shackd::ApplyOutcome;
using shackd::apply_profiles;

namespace {
std::string profiles_now(shackd::db::Db& db) { return shackd::export_profiles_yaml(shackd::load_profiles(db)); }
int history_rows(shackd::db::Db& db) { return static_cast<int>(db.scalar_int("SELECT count(*) FROM config_history")); }
using test::any_contains;
}  // namespace

TEST_CASE("a YAML change is applied; the same YAML again writes nothing") {
  test::MigratedDb m;
  const std::string yaml =
      "site:\n  name: Solar Shack\nprofiles:\n  miners:\n    - name: Primary S21+\n      start_voltage: 50.5\n"
      "    - name: \"Dump Load S19 #1\"\n  zones:\n    - name: Heat Room\n    - name: Main Room\n";
  const auto r = apply_profiles(m.db, yaml, "shackd.yaml");
  CHECK(r.outcome == ApplyOutcome::applied);
  CHECK(r.rows_written == 1);
  CHECK(shackd::load_profiles(m.db).rules.miners[0].start_v == 50.5);
  CHECK(history_rows(m.db) == 1);

  const auto again = apply_profiles(m.db, yaml, "shackd.yaml");
  CHECK(again.outcome == ApplyOutcome::unchanged);
  CHECK(again.rows_written == 0);
  CHECK(history_rows(m.db) == 1);
}

TEST_CASE("a YAML with one bad miner changes nothing") {
  test::MigratedDb m;
  const std::string before = profiles_now(m.db);
  const std::string yaml =
      "profiles:\n"
      "  site:\n"
      "    voltage_restart: 50.0\n"
      "    mode_margin_v: 0.3\n"  // a good change, which must not land either
      "  miners:\n"
      "    - name: Primary S21+\n"
      "      start_voltage: 50.2\n"
      "    - name: \"Dump Load S19 #1\"\n"
      "      stop_voltage: 55.0\n";
  const auto r = apply_profiles(m.db, yaml, "shackd.yaml");
  CHECK(r.outcome == ApplyOutcome::rejected);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "profiles.miners[1].stop_voltage (line 9:21): "
        "miner 'Dump Load S19 #1': stop_voltage 55.0 must be below start_voltage 54.5 "
        "(rule: emergency_stop_voltage < stop_voltage < start_voltage)");
  CHECK(profiles_now(m.db) == before);
  // The refusal is on record, with its message.
  auto h = m.db.prepare("SELECT outcome, message FROM config_history");
  REQUIRE(h.step());
  CHECK(h.text(0) == "rejected");
  CHECK(h.text(1).find("stop_voltage 55.0") != std::string::npos);
}

TEST_CASE("YAML mistakes are named with their path and line") {
  test::MigratedDb m;
  const std::string before = profiles_now(m.db);
  struct Case {
    const char* what;
    std::string yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"unknown key", "profiles:\n  miners:\n    - name: Primary S21+\n      stop_volts: 46\n",
       "profiles.miners[0].stop_volts (line 4:7): unknown key; did you mean stop_voltage?"},
      {"duplicate key", "profiles:\n  miners:\n    - name: Primary S21+\n      stop_voltage: 46\n      stop_voltage: 45.5\n",
       "profiles.miners[0].stop_voltage (line 5:7): duplicate key: also at line 4; keep one"},
      {"octal", "profiles:\n  miners:\n    - name: Primary S21+\n      priority: 010\n",
       "profiles.miners[0].priority (line 4:17): '010' has a leading zero, which YAML reads as octal"},
      {"text for a number", "profiles:\n  site:\n    voltage_low: low\n",
       "profiles.site.voltage_low (line 3:18): expected a number, got 'low'"},
      {"quoted number", "profiles:\n  site:\n    voltage_low: \"47\"\n",
       "profiles.site.voltage_low (line 3:18): expected a number, got '47'"},
      {"fraction for seconds", "profiles:\n  miners:\n    - name: Primary S21+\n      min_on_s: 2.5\n",
       "profiles.miners[0].min_on_s (line 4:17): expected a whole number, got '2.5'"},
      {"yes for a boolean", "profiles:\n  miners:\n    - name: Primary S21+\n      enabled: yes\n",
       "profiles.miners[0].enabled (line 4:16): expected true or false, got 'yes'"},
      {"null for a required value", "profiles:\n  site:\n    voltage_low: null\n",
       "profiles.site.voltage_low (line 3:18): must have a value (it cannot be null)"},
      {"a list for a number", "profiles:\n  site:\n    voltage_low: [47]\n",
       "profiles.site.voltage_low (line 3:18): expected a number, got a list"},
      {"unknown section", "profiles:\n  sites:\n    voltage_low: 47\n",
       "profiles.sites (line 2:3): unknown key; did you mean site?"},
      {"miners not a list", "profiles:\n  miners:\n    name: Primary S21+\n",
       "profiles.miners (line 3:5): expected a list of miners"},
      {"a miner listed twice", "profiles:\n  miners:\n    - name: A\n    - name: A\n",
       "profiles.miners[1] (line 4:7): miner 'A' is listed twice"},
      {"a new miner without its voltages", "profiles:\n  miners:\n    - name: Antminer S9\n      power_w: 1350\n",
       "miner 'Antminer S9' is new, so it needs priority, start_voltage, stop_voltage, emergency_stop_voltage"},
      {"bad schedule", "profiles:\n  miners:\n    - name: Primary S21+\n      schedule: \"25:00-10:00\"\n",
       "miner 'Primary S21+': schedule '25:00-10:00' is not a time of day"},
      {"bad mode", "profiles:\n  miners:\n    - name: Primary S21+\n      operating_mode: turbo\n",
       "miner 'Primary S21+': operating_mode 'turbo' must be aggressive, balanced, conservative or opportunistic"},
      {"heat_miner unknown", "profiles:\n  zones:\n    - name: Heat Room\n      heat_miner: Nobody\n",
       "zone 'Heat Room': heat_miner 'Nobody' names no miner profile"},
      {"thresholds out of order", "profiles:\n  site:\n    voltage_low: 50.5\n",
       "site: voltage_low 50.5 must be below voltage_restart 50.0"},
      {"bad timezone", "profiles:\n  site:\n    timezone: \"Pacific Time\"\n",
       "site: timezone 'Pacific Time' is not a zone name"},
      {"syntax", "profiles:\n  site:\n    voltage_low: [47\n", "shackd.yaml (line"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    const auto r = apply_profiles(m.db, c.yaml, "shackd.yaml");
    CHECK(r.outcome == ApplyOutcome::rejected);
    CHECK_MESSAGE(any_contains(r.errors, c.expected), "got: " << (r.errors.empty() ? "(none)" : r.errors.front()));
    CHECK(profiles_now(m.db) == before);
  }
}

TEST_CASE("an unquoted name with ' #' gets a hint: YAML read the rest as a comment") {
  test::MigratedDb m;
  const auto r = apply_profiles(m.db, "profiles:\n  miners:\n    - name: Dump Load S19 #1\n      stop_voltage: 53.5\n",
                                "shackd.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("did you mean 'Dump Load S19 #1'? In YAML \" #\" starts a comment") != std::string::npos);
}

TEST_CASE("every error is listed at once") {
  test::MigratedDb m;
  const auto r = apply_profiles(m.db,
                                "profiles:\n  site:\n    voltage_low: abc\n  miners:\n    - name: Primary S21+\n"
                                "      priority: 0x1\n      enabled: maybe\n",
                                "shackd.yaml");
  CHECK(r.errors.size() == 3);
}

TEST_CASE("the YAML's lists are the whole set: a profile it does not name is removed, after a backup") {
  test::MigratedDb m;
  const auto r = apply_profiles(m.db,
                                "profiles:\n  miners:\n"
                                "    - name: Primary S21+\n"
                                "    - name: Antminer S9\n      power_w: 1350\n      priority: 5\n"
                                "      start_voltage: 53.0\n      stop_voltage: 51.0\n      emergency_stop_voltage: 49.0\n"
                                "      relay_id: s9\n",
                                "shackd.yaml");
  REQUIRE_MESSAGE(r.outcome == ApplyOutcome::applied, (r.errors.empty() ? "" : r.errors.front()));
  const auto p = shackd::load_profiles(m.db);
  REQUIRE(p.rules.miners.size() == 2);
  CHECK(p.rules.miners[0].name == "Primary S21+");  // named without keys: its database values stay
  CHECK(p.rules.miners[0].start_v == 50.0);
  CHECK(p.rules.miners[1].name == "Antminer S9");
  CHECK(p.rules.miners[1].timing.min_on == std::chrono::seconds(600));  // the schema's default
  CHECK(p.miners[1].relay_id == "s9");
  CHECK(p.rules.zones.empty());  // no zones: list, no zones
  // What changed, in the owner's words, and a copy of the database as it was.
  CHECK(any_contains(r.changes, "miner 'Dump Load S19 #1': removed (not named under profiles.miners)"));
  CHECK(any_contains(r.changes, "zone 'Heat Room': removed (not named under profiles.zones)"));
  CHECK(any_contains(r.changes, "miner 'Antminer S9': added"));
  REQUIRE_FALSE(r.backup_path.empty());
  shackd::db::Db copy(r.backup_path);
  CHECK(copy.scalar_int("SELECT count(*) FROM miner_profiles") == 2);
  CHECK(copy.scalar_int("SELECT count(*) FROM hvac_zones") == 2);
}

TEST_CASE("a zone can be disabled, and a change lists its keys") {
  test::MigratedDb m;
  const auto r = apply_profiles(m.db,
                                "profiles:\n  miners:\n    - name: Primary S21+\n      start_voltage: 50.5\n"
                                "    - name: \"Dump Load S19 #1\"\n"
                                "  zones:\n    - name: Heat Room\n      enabled: false\n    - name: Main Room\n",
                                "shackd.yaml");
  REQUIRE_MESSAGE(r.outcome == ApplyOutcome::applied, (r.errors.empty() ? "" : r.errors.front()));
  CHECK(r.backup_path.empty());  // nothing removed, no backup
  CHECK(any_contains(r.changes, "miner 'Primary S21+': start_voltage 50.0 -> 50.5"));
  CHECK(any_contains(r.changes, "zone 'Heat Room': enabled true -> false"));
  const auto p = shackd::load_profiles(m.db);
  CHECK_FALSE(p.rules.zones[0].enabled);
  CHECK(p.rules.zones[1].enabled);
}

TEST_CASE("export is valid YAML that applies back unchanged, to this or a fresh database") {
  test::MigratedDb a;
  apply_profiles(a.db, "profiles:\n  site:\n    internal_resistance_ohm: 0.012\n  zones:\n"
                       "    - name: Main Room\n      heater_relay: null\n      heating_priority_1: none\n",
                 "one.yaml");
  const std::string exported = profiles_now(a.db);
  CHECK(exported.find("internal_resistance_ohm: 0.012") != std::string::npos);
  CHECK(exported.find("heater_relay: null") != std::string::npos);

  const auto same = apply_profiles(a.db, exported, "export.yaml");
  CHECK(same.outcome == ApplyOutcome::unchanged);

  test::MigratedDb b;
  const auto fresh = apply_profiles(b.db, exported, "export.yaml");
  CHECK(fresh.outcome == ApplyOutcome::applied);
  CHECK(profiles_now(b.db) == exported);
}

TEST_CASE("a config without profiles: applies nothing") {
  test::MigratedDb m;
  const auto r = apply_profiles(m.db, "site:\n  name: x\n", "shackd.yaml");
  CHECK(r.outcome == ApplyOutcome::absent);
  CHECK(history_rows(m.db) == 0);
}

// Issue 48: the UTF-8 check walked the tree through aliases, 9^9 scalars for a 2 kB file, and hung
// `check`, every start and a reload on the loop. The walk has a budget: refused, whatever the key.
TEST_CASE("config: a YAML alias bomb is refused by its size, not walked") {
  const std::string bomb = test::alias_bomb();
  CHECK(bomb.size() < 2500);
  for (const std::string& text : {bomb, "site:\n  name: x\n" + test::alias_bomb("profiles"),
                                   "site:\n  name: x\nprofiles:\n  miners:\n" + test::alias_bomb("    - name")}) {
    const auto r = shackd::parse_config(text, "bomb.yaml");
    CHECK_FALSE(r.config);
    CHECK(any_contains(r.errors, "expands to more than 100000 values, aliases (*name) counted each time they are used"));
  }
  // The profiles' own reader, which parses the text again when they are applied.
  test::MigratedDb m;
  const auto applied = apply_profiles(m.db, "site:\n  name: x\n" + test::alias_bomb("profiles"), "bomb.yaml");
  CHECK(applied.outcome != ApplyOutcome::applied);
  // An alias or two, as people use them, is fine.
  const auto small = shackd::parse_config(
      "site:\n  name: x\nx_defaults: &d {protocol: tasmota}\n", "small.yaml");
  CHECK_FALSE(any_contains(small.errors, "expands to more than"));
}

// A field of the miner profile from the YAML to the database and the rules, and back out: the
// longest run (max_runtime_s, schema/0013_max_runtime.sql).
TEST_CASE("max_runtime_s: set in the YAML, stored, handed to the rules, exported; a profile without it has none") {
  test::MigratedDb m;
  CHECK(shackd::load_profiles(m.db).rules.miners[0].max_run == std::chrono::seconds(0));  // the column's default
  const auto r = apply_profiles(m.db,
                                "profiles:\n  miners:\n    - name: Primary S21+\n      max_runtime_s: 14400\n"
                                "    - name: \"Dump Load S19 #1\"\n  zones:\n    - name: Heat Room\n    - name: Main Room\n",
                                "shackd.yaml");
  REQUIRE_MESSAGE(r.outcome == ApplyOutcome::applied, (r.errors.empty() ? "" : r.errors.front()));
  CHECK(any_contains(r.changes, "miner 'Primary S21+': max_runtime_s 0 -> 14400"));
  CHECK(m.db.scalar_int("SELECT max_runtime_s FROM miner_profiles WHERE name = 'Primary S21+'") == 14400);
  const auto p = shackd::load_profiles(m.db);
  CHECK(p.rules.miners[0].max_run == std::chrono::hours(4));
  CHECK(p.rules.miners[1].max_run == std::chrono::seconds(0));
  CHECK(profiles_now(m.db).find("max_runtime_s: 14400") != std::string::npos);

  const auto bad = apply_profiles(m.db, "profiles:\n  miners:\n    - name: Primary S21+\n      max_runtime_s: -60\n",
                                  "shackd.yaml");
  CHECK(bad.outcome == ApplyOutcome::rejected);
  CHECK(any_contains(bad.errors, "profiles.miners[0].max_runtime_s (line 4:22): miner 'Primary S21+': max_runtime_s -60 "
                                 "must be at least 0"));
}

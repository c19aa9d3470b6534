// The demo's day (config/demo-day.csv with config/demo.yaml) in process on the stepped clock
// (tests/support/sim_site.hpp): the right relays at the right simulated times, and `shackd
// replay` over the day's cycle journal agreeing with what the daemon did. It ran as a process
// at 180x under faketime (tests/e2e/full_day.sh, about 190 s); cycle for cycle it takes seconds.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "daemon/cli/replay.hpp"
#include "sim/model.hpp"
#include "tests/support/sim_site.hpp"

namespace {

constexpr std::int64_t kFivePst = 1795611600000;  // 2026-11-25 05:00 America/Los_Angeles

// The simulated time of day, HH:MM, of scenario second `t_s` (the day starts at 05:00).
std::string clock_time(double t_s) {
  const int minute = 5 * 60 + static_cast<int>(t_s / 60);
  char hhmm[8];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", minute / 60 % 24, minute % 60);
  return hhmm;
}
// When a relay first changed to `on`, if it did.
std::optional<std::string> at(const test::SimSite& site, const std::string& relay, bool on) {
  for (const auto& s : site.switches) {
    if (s.relay == relay && s.on == on) return clock_time(s.t_s);
  }
  return std::nullopt;
}
int count(const test::SimSite& site, const std::string& relay, bool on) {
  int n = 0;
  for (const auto& s : site.switches) n += s.relay == relay && s.on == on;
  return n;
}

// What `shackd replay ARGS` prints, run in process; its exit code in `rc`.
std::string replay(const std::vector<std::string>& args, int& rc) {
  std::fflush(stdout);
  std::cout.flush();
  char path[] = "/tmp/shackd-replay-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const int saved = dup(1);
  dup2(fd, 1);
  rc = shackd::cmd_replay(args);
  std::fflush(stdout);
  std::cout.flush();
  dup2(saved, 1);
  close(saved);
  close(fd);
  const std::string out = test::read_text(path);
  unlink(path);
  return out;
}

}  // namespace

TEST_CASE("the demo's day: the right relays at the right simulated times, and its replay agrees") {
  test::SimSite site;
  site.scenario = sim::load_scenario(SHACKD_SOURCE_DIR "/config/demo-day.csv");
  site.model.capacity_wh = 20000;
  site.model.soc_pct = 38;
  site.model.internal_ohm = 0.01;
  site.sensor_period_s = 1;
  REQUIRE(site.start(test::read_text(SHACKD_SOURCE_DIR "/config/demo.yaml") + "relay_timing:\n  confirm_s: 60\n", kFivePst));
  site.run_until(9 * 3600);  // 14:00
  std::string story;
  for (const auto& s : site.switches) story += clock_time(s.t_s) + " " + s.relay + (s.on ? " ON; " : " OFF; ");
  MESSAGE("the day's first switchings: ", story.substr(0, 600));

  const auto within = [](const std::optional<std::string>& t, const char* from, const char* to) {
    return t && *t >= from && *t <= to;
  };
  // The primary is in aggressive mode with its start at the site's restart threshold (50.0 V): it
  // waits out the cold night at 49.6 V instead of draining the bank, and starts once the sun has
  // charged it.
  CHECK(within(at(site, "main_room_heater", true), "07:00", "08:45"));  // heats on solar
  CHECK(within(at(site, "primary_s21", true), "08:15", "10:15"));
  const auto primary_off = at(site, "primary_s21", false);
  CHECK((!primary_off || *primary_off > "10:00"));  // not in the night
  CHECK(count(site, "main_room_heater", true) <= 2);  // no flapping at voltage_low
  CHECK(within(at(site, "dump_s19_1", true), "10:15", "12:45"));  // on midday surplus
  CHECK(within(at(site, "dump_s19_1", false), "12:15", "13:30"));  // off for the cloud
  // In order: the primary's start, then the dump load's start and stop.
  const auto primary_on = at(site, "primary_s21", true), dump_on = at(site, "dump_s19_1", true),
             dump_off = at(site, "dump_s19_1", false);
  REQUIRE((primary_on && dump_on && dump_off));
  CHECK(*primary_on <= *dump_on);
  CHECK(*dump_on <= *dump_off);

  site.daemon.reset();  // stopped: its journal flushed
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((site.dir.path / "shackd.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT reason FROM events WHERE kind = 'actuation' AND load_id = 'dump_s19_1' AND "
                             "commanded_on = 0 AND id > (SELECT min(id) FROM events WHERE load_id = 'dump_s19_1' AND "
                             "commanded_on = 1) ORDER BY id LIMIT 1",
                             -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::string why = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  CHECK_MESSAGE((why.find("solar") != std::string::npos || why.find("surplus") != std::string::npos), why);

  // Replay (issue 12, point 7): the rules run again over the day's cycle journal make every
  // switching the daemon made, within one cycle.
  const std::string config = (site.dir.path / "shackd.yaml").string();
  const std::vector<std::string> span = {"--config", config, "--since", "2000-01-01T00:00:00Z", "--until", "2100-01-01T00:00:00Z"};
  int rc = -1;
  std::string out = replay(span, rc);
  CHECK_MESSAGE(rc == 0, out);
  CHECK(out.find("the replay agrees with the record: every switching within one cycle") != std::string::npos);
  CHECK(std::regex_search(out, std::regex("(^|\n)replaying [0-9]+ cycles of the cycle journal")));
  CHECK(std::regex_search(out, std::regex("(^|\n)Primary S21\\+ +[0-9.]+ h +1 st +[0-9.]+ h +1 st")));
  // What if the dump load's start were one it never reaches: it does not start.
  auto what_if = span;
  what_if.insert(what_if.end(), {"--set", "miners.Dump Load S19 #1.start_voltage=57.5"});
  out = replay(what_if, rc);
  CHECK_MESSAGE(rc == 0, out);
  CHECK(std::regex_search(out, std::regex("(^|\n)Dump Load S19 #1 +[0-9.]+ h +[1-9] st +[0-9.]+ h +[1-9] st +0\\.00 h +0 st")));
}

// The cycle journal: what the rules were given reads back bit for bit, so a replay decides on
// exactly what the daemon decided on.
#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>

#include "daemon/store/cycle_journal.hpp"

using namespace std::chrono_literals;

namespace {
const rules::SteadyTime kJournalNow = rules::SteadyTime{} + 1000h + 123ms;
constexpr std::int64_t kMinute = 1795352400;  // 2026-11-22T13:00:00Z

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
}  // namespace

TEST_CASE("a cycle reads back with its values, ages, local minute, zones and overrides") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.local_minute_of_day = 300;
  s.battery_v = {{"battery_monitor", "the monitor", rules::Reading{52.37, kJournalNow - 182ms}},
                 {"gx_system", "the GX", std::nullopt},
                 // not a round number: 0.30000000000000004
                 {"solark", "the inverter", rules::Reading{0.1 + 0.2, kJournalNow - 4s}}};
  s.battery_temp_c = {{"bms_min_cell", "the BMS", rules::Reading{-2.5, kJournalNow - 1s}}, {"battery_monitor", "x", std::nullopt}};
  s.battery_a = rules::Reading{-10.1, kJournalNow};
  s.pv_w = rules::Reading{6387, kJournalNow - 31s};  // older than the staleness limit: the age says so
  s.pv_w_partial = true;                      // and a lower bound: a part of the sum was missing
  s.zone_temp_c = {rules::Reading{-6.0, kJournalNow - 2s}, std::nullopt};
  s.chargers_limiting = rules::Reading{1, kJournalNow - 700ms};
  const std::vector<shackd::JournalOverride> ov = {{"miner:Dump Load S19 #1", rules::OverrideMode::off, 3'600'000},
                                                   {"heater:Main Room", rules::OverrideMode::on, std::nullopt}};
  const std::string text = shackd::journal_header({"Heat Room", "Main Room"}, {"battery_monitor", "gx_system", "solark"},
                                                  {"bms_min_cell", "battery_monitor"}) + "\nS\n" +
                           shackd::journal_cycle_line(s, kMinute * 1000 + 6465, ov) + "\n";
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  const auto& c = out[0];
  CHECK(c.started);
  CHECK(c.wall_ms == kMinute * 1000 + 6465);
  CHECK(c.local_minute_of_day == 300);
  REQUIRE(c.overrides.size() == 2);
  CHECK(c.overrides[0].state_key == "miner:Dump Load S19 #1");
  CHECK(c.overrides[0].mode == rules::OverrideMode::off);
  CHECK(c.overrides[0].remaining_ms == 3'600'000);
  CHECK(c.overrides[1].mode == rules::OverrideMode::on);
  CHECK_FALSE(c.overrides[1].remaining_ms);

  // Replayed on another clock, in a profile that lists the zones the other way round.
  const rules::SteadyTime later = rules::SteadyTime{} + 5h;
  const rules::Snapshot back = c.snapshot(later, {"Main Room", "Heat Room", "Shed"});
  CHECK(back.now == later);
  REQUIRE(back.battery_v.size() == 3);
  CHECK(back.battery_v[0].name == "battery_monitor");
  REQUIRE(back.battery_v[0].reading);
  CHECK(same_bits(back.battery_v[0].reading->value, 52.37));
  CHECK(later - back.battery_v[0].reading->as_of == 182ms);
  CHECK(back.battery_v[2].name == "solark");
  REQUIRE(back.battery_v[2].reading);
  CHECK(same_bits(back.battery_v[2].reading->value, 0.1 + 0.2));
  CHECK_FALSE(back.battery_v[1].reading);
  REQUIRE(back.battery_temp_c.size() == 2);
  CHECK(back.battery_temp_c[0].name == "bms_min_cell");
  CHECK(back.battery_temp_c[0].reading->value == -2.5);
  CHECK_FALSE(back.battery_temp_c[1].reading);
  CHECK_FALSE(back.load_w);
  CHECK_FALSE(back.load_w_partial);
  CHECK(later - back.pv_w->as_of == 31s);
  CHECK(back.pv_w_partial);
  REQUIRE(back.zone_temp_c.size() == 3);
  CHECK_FALSE(back.zone_temp_c[0]);  // Main Room: no reading
  REQUIRE(back.zone_temp_c[1]);      // Heat Room
  CHECK(back.zone_temp_c[1]->value == -6.0);
  CHECK_FALSE(back.zone_temp_c[2]);  // Shed: not in the journal
  REQUIRE(back.chargers_limiting);    // the hidden-surplus probe's input replays too
  CHECK(back.chargers_limiting->value == 1);
  CHECK(later - back.chargers_limiting->as_of == 700ms);
}

TEST_CASE("the chargers' word: missing before it was journaled, an unknown input skipped") {
  // A minute from before the X line: no chargers_limiting, the override still read.
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(
      kMinute, "Z\nV\tv\nT\nC\t5\t1000\t60\t52.1@0\t-3@0\t800@0\t300@0\tminer:A=off:-\n", out);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].snapshot(kJournalNow, {}).chargers_limiting);
  REQUIRE(out[0].overrides.size() == 1);
  // A newer journal with an input this build does not know, before the chargers' word.
  out.clear();
  shackd::read_journal_minute(
      kMinute, "Z\nV\tv\nT\nX\tpv_available_w\tchargers_limiting\nC\t5\t1000\t60\t52.1@0\t-3@0\t800@0\t300@0\t9000@0\t0@20\n",
      out);
  REQUIRE(out.size() == 1);
  const auto snap = out[0].snapshot(kJournalNow, {});
  REQUIRE(snap.chargers_limiting);
  CHECK(snap.chargers_limiting->value == 0);
  CHECK(out[0].overrides.empty());
  // Fewer fields than the X line names: refused, not read as overrides.
  out.clear();
  CHECK_THROWS_WITH(shackd::read_journal_minute(kMinute, "Z\nV\tv\nT\nX\tchargers_limiting\nC\t5\t1000\t60\t52.1@0\t-\t-\t-\n", out),
                    doctest::Contains("8 fields, expected at least 9"));
}

TEST_CASE("a clock not yet trusted and a zone change within a minute") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.zone_temp_c = {rules::Reading{20, kJournalNow}};
  rules::Snapshot reloaded = s;  // a reload added zone B before A
  reloaded.zone_temp_c = {rules::Reading{30, kJournalNow}, rules::Reading{20, kJournalNow}};
  const std::string text = shackd::journal_header({"A"}, {}, {}) + "\n" + shackd::journal_cycle_line(s, kMinute * 1000, {}) +
                           "\n" + shackd::journal_header({"B", "A"}, {}, {}) + "\n" +
                           shackd::journal_cycle_line(reloaded, kMinute * 1000 + 2000, {}) + "\n";
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 2);
  CHECK_FALSE(out[0].local_minute_of_day);
  CHECK_FALSE(out[0].started);
  CHECK(out[1].zones == std::vector<std::string>{"B", "A"});
  CHECK(out[1].snapshot(kJournalNow, {"A", "B"}).zone_temp_c[1]->value == 30);
}

TEST_CASE("a minute written before sources were ranked reads with the old layout") {
  // C, ms, steady, minute, monitor_v, gx_v, solark_v, battery_a, battery_temp_c, pv_w, load_w, zone
  const std::string text = "Z\tA\nC\t5\t1000\t60\t52.1@0\t-\t52.05@10\t-3@0\t4.5@2\t800@0\t300@0\t21@0\n";
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  const auto snap = out[0].snapshot(kJournalNow, {"A"});
  REQUIRE(snap.battery_v.size() == 3);
  CHECK(snap.battery_v[0].reading->value == 52.1);
  CHECK_FALSE(snap.battery_v[1].reading);
  CHECK(snap.battery_v[2].reading->value == 52.05);
  CHECK(snap.battery_a->value == -3);
  REQUIRE(snap.battery_temp_c.size() == 1);
  CHECK(snap.battery_temp_c[0].reading->value == 4.5);
  CHECK(snap.pv_w->value == 800);
  CHECK(snap.load_w->value == 300);
  CHECK(snap.zone_temp_c[0]->value == 21);
}

TEST_CASE("a damaged journal is refused with the minute and line, not misread") {
  std::vector<shackd::JournalCycle> out;
  const auto refused = [&](const std::string& text) {
    try {
      shackd::read_journal_minute(kMinute, text, out);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(refused("Z\tA\nC\t1\t2\t-\t52.1@0\n") ==
        "cycle journal of 2026-11-22T13:00:00Z, line 2: 5 fields, expected at least 12");
  CHECK(refused("Z\nC\t1\t2\t-\t52.1@x\t-\t-\t-\t-\t-\t-\n").find("line 2: age 'x' is not an integer") != std::string::npos);
  CHECK(refused("Z\nC\t1\t2\t-\tvolts@0\t-\t-\t-\t-\t-\t-\n").find("reading 'volts@0' is not a number") != std::string::npos);
  CHECK(refused("Q\n").find("line 1: unknown entry 'Q'") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("a miner's own measured draw, its hottest sensor and its limit read back by its name, bit for bit, for the replay") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.battery_v = {{"v", "v", rules::Reading{55.5, kJournalNow}}};
  s.miner_w = {std::nullopt, rules::Reading{2412.75, kJournalNow - 4s}};
  s.miner_temp_c = {std::nullopt, rules::Reading{88.25, kJournalNow - 4s}};
  s.miner_temp_limit_c = {std::nullopt, 90.0};
  const std::string text = shackd::journal_header({}, {"v"}, {}, {"Dump Load S19 #1"}) + "\n" +
                           shackd::journal_cycle_line(s, 5000, {}, {1}) + "\n";
  CHECK(text.find("X\tchargers_limiting\tminer_w:Dump Load S19 #1\tminer_temp_c:Dump Load S19 #1\t"
                  "miner_temp_limit_c:Dump Load S19 #1\tminer_powered:Dump Load S19 #1\t"
                  "miner_target_ignored:Dump Load S19 #1\tgenerator_running\n") != std::string::npos);
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  // The replay's profiles may order the miners differently: matched by name.
  const auto snap = out[0].snapshot(kJournalNow, {}, {"Primary S21+", "Dump Load S19 #1"});
  REQUIRE(snap.miner_w.size() == 2);
  CHECK_FALSE(snap.miner_w[0]);
  REQUIRE(snap.miner_w[1]);
  CHECK(same_bits(snap.miner_w[1]->value, 2412.75));
  CHECK(kJournalNow - snap.miner_w[1]->as_of == 4s);
  REQUIRE(snap.miner_temp_c.size() == 2);
  REQUIRE(snap.miner_temp_c[1]);
  CHECK(same_bits(snap.miner_temp_c[1]->value, 88.25));
  CHECK(kJournalNow - snap.miner_temp_c[1]->as_of == 4s);
  REQUIRE(snap.miner_temp_limit_c.size() == 2);
  CHECK_FALSE(snap.miner_temp_limit_c[0]);
  CHECK(snap.miner_temp_limit_c[1] == 90.0);
}

TEST_CASE("a miner's relay still on after a stop, and a target it ignores, read back for the replay; older minutes read as neither") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.battery_v = {{"v", "v", rules::Reading{55.5, kJournalNow}}};
  s.miner_powered = {false, true};
  s.miner_target_ignored = {false, true};
  const std::string text = shackd::journal_header({}, {"v"}, {}, {"Dump Load S19 #1"}) + "\n" +
                           shackd::journal_cycle_line(s, 5000, {}, {1}) + "\n";
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  const auto snap = out[0].snapshot(kJournalNow, {}, {"Primary S21+", "Dump Load S19 #1"});
  CHECK(snap.miner_powered == std::vector<bool>{false, true});
  CHECK(snap.miner_target_ignored == std::vector<bool>{false, true});
  // A minute written before they were journaled: its X line names only the first three.
  const std::string older = "V\tv\nX\tchargers_limiting\tminer_w:Dump Load S19 #1\tminer_temp_c:Dump Load S19 #1\t"
                            "miner_temp_limit_c:Dump Load S19 #1\nC\t5000\t1\t-\t55.5@0\t-\t-\t-\t-\t-\t-\t-\t-\n";
  out.clear();
  shackd::read_journal_minute(kMinute, older, out);
  REQUIRE(out.size() == 1);
  const auto old_snap = out[0].snapshot(kJournalNow, {}, {"Dump Load S19 #1"});
  CHECK(old_snap.miner_powered == std::vector<bool>{false});
  CHECK(old_snap.miner_target_ignored == std::vector<bool>{false});
}

TEST_CASE("whether a generator feeds the site, read back for the replay; older minutes read it as not known") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.battery_v = {{"v", "v", rules::Reading{55.5, kJournalNow}}};
  s.generator_running = rules::Reading{1, kJournalNow - 2s};
  const std::string text = shackd::journal_header({}, {"v"}, {}, {"Dump Load S19 #1"}) + "\n" +
                           shackd::journal_cycle_line(s, 5000, {}, {1}) + "\n";
  CHECK(text.find("miner_target_ignored:Dump Load S19 #1\tgenerator_running\n") != std::string::npos);
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  const auto snap = out[0].snapshot(kJournalNow, {}, {"Dump Load S19 #1"});
  REQUIRE(snap.generator_running);
  CHECK(snap.generator_running->value == 1);
  CHECK(kJournalNow - snap.generator_running->as_of == 2s);
  // Not known is written as such and read back so.
  s.generator_running.reset();
  out.clear();
  shackd::read_journal_minute(kMinute, shackd::journal_header({}, {"v"}, {}, {}) + "\n" +
                                           shackd::journal_cycle_line(s, 5000, {}, {}) + "\n", out);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].snapshot(kJournalNow, {}).generator_running);
  // A minute written before it was journaled has no such column: not known.
  out.clear();
  shackd::read_journal_minute(kMinute, "V\tv\nX\tchargers_limiting\nC\t5000\t1\t-\t55.5@0\t-\t-\t-\t-\t-\n", out);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].snapshot(kJournalNow, {}).generator_running);
}

TEST_CASE("each AC source's output and overload words, those its devices give, read back by name for the replay (issue 59)") {
  rules::Snapshot s;
  s.now = kJournalNow;
  s.battery_v = {{"v", "v", rules::Reading{55.5, kJournalNow}}};
  s.ac.resize(2);
  s.ac[0].overload = rules::Reading{1, kJournalNow - 1s};
  s.ac[0].phase[0].load_w = rules::Reading{4321.5, kJournalNow - 1s};
  s.ac[0].phase[1].load_w = rules::Reading{1234.25, kJournalNow - 2s};
  s.ac[0].phase[2].load_w = rules::Reading{999, kJournalNow};  // no device gives it: not written
  s.ac[1].phase[0].load_w = rules::Reading{2500, kJournalNow - 3s};
  s.ac[1].phase[0].overload = rules::Reading{2, kJournalNow - 3s};
  const std::vector<shackd::JournalAc> ac = {{"inverter", true, {true, true, false}, {false, false, false}},
                                             {"generator", false, {true, false, false}, {true, false, false}}};
  const std::string text = shackd::journal_header({}, {"v"}, {}, {}, ac) + "\n" + shackd::journal_cycle_line(s, 5000, {}, {}, ac) + "\n";
  CHECK(text.find("\tgenerator_running\tac_overload:inverter\tac_load_w:L1:inverter\tac_load_w:L2:inverter\t"
                  "ac_load_w:L1:generator\tac_phase_overload:L1:generator\n") != std::string::npos);
  CHECK(text.find("999") == std::string::npos);
  std::vector<shackd::JournalCycle> out;
  shackd::read_journal_minute(kMinute, text, out);
  REQUIRE(out.size() == 1);
  // The replay's profiles name the sources in their own order: matched by name; one the journal
  // does not name is not known.
  const auto snap = out[0].snapshot(kJournalNow, {}, {}, {"generator", "inverter", "shore"});
  REQUIRE(snap.ac.size() == 3);
  REQUIRE(snap.ac[1].overload);
  CHECK(snap.ac[1].overload->value == 1);
  REQUIRE(snap.ac[1].phase[0].load_w);
  CHECK(same_bits(snap.ac[1].phase[0].load_w->value, 4321.5));
  CHECK(kJournalNow - snap.ac[1].phase[0].load_w->as_of == 1s);
  REQUIRE(snap.ac[1].phase[1].load_w);
  CHECK(same_bits(snap.ac[1].phase[1].load_w->value, 1234.25));
  CHECK(kJournalNow - snap.ac[1].phase[1].load_w->as_of == 2s);
  CHECK_FALSE(snap.ac[1].phase[2].load_w);
  CHECK_FALSE(snap.ac[0].overload);
  REQUIRE(snap.ac[0].phase[0].overload);
  CHECK(snap.ac[0].phase[0].overload->value == 2);
  CHECK(snap.ac[0].phase[0].load_w->value == 2500);
  CHECK_FALSE(snap.ac[2].overload);
  CHECK_FALSE(snap.ac[2].phase[0].load_w);
  // A minute written before the sources were journaled: nothing known of them.
  out.clear();
  shackd::read_journal_minute(kMinute, shackd::journal_header({}, {"v"}, {}, {}) + "\n" + shackd::journal_cycle_line(s, 5000, {}, {}) + "\n", out);
  REQUIRE(out.size() == 1);
  const auto old_snap = out[0].snapshot(kJournalNow, {}, {}, {"inverter"});
  REQUIRE(old_snap.ac.size() == 1);
  CHECK_FALSE(old_snap.ac[0].phase[0].load_w);
}

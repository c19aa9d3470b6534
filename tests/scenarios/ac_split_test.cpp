// A cold sunny morning on a split-phase inverter (issue 59: "tried on a split-phase site with
// loads on both legs"), in process on the stepped clock (tests/support/sim_site.hpp). The
// simulator's inverter has two legs, each rated 5,000 W (sim/model.hpp: a leg warns above its
// rating, and either leg above it for 10 s trips the whole output: the simulator's own
// assumption). On L1 the Primary S21+ (3,878 W) and the Heat Room's heater (1,500 W), on L2 the
// Dump S19 (3,250 W) and the Main Room's heater (1,500 W), the house (800 W) split over both: each
// leg wants more than its rating less the margin, the two together less than twice it. Without a
// budget shackd starts every load and trips it; with one it never trips on either leg, on each leg
// one load runs and the other waits naming its leg and the room left on it. The budget is per
// leg: a leg full of the house holds its own loads and none on the other leg.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <string>

#include "tests/support/sim_site.hpp"

namespace {

constexpr std::int64_t kSplitMorningPst = 1768143600000;  // 2026-01-11 07:00 America/Los_Angeles (15:00 UTC)
constexpr double kSplitLegRatingW = 5000;
constexpr double kSplitMarginW = 200;  // the rules' default margin_w
constexpr double kSplitHeaterW = 1500;

enum class Budget { none, words_only, rated };

// Two legs. rated: each leg's rating, the GX's per-leg outputs (vebus 23, 24) and its overload
// words (36, 46, 50); words_only: the outputs and the per-leg words (46, 50) alone, no rating (the
// whole unit's word, 36, says overload on every leg: rules/ac_budget.cpp sheds on each for it);
// none: no rating, no words.
std::string split_config(Budget budget) {
  const bool rated = budget == Budget::rated, read = budget != Budget::none;
  std::string text = test::read_text(SHACKD_SOURCE_DIR "/tests/scenarios/ac_split_morning.yaml");
  const auto put = [&](const std::string& key, const std::string& value) {
    text.replace(text.find(key), key.size(), value);
  };
  std::string sources = "ac_sources:\n  inverter:\n    phases: 2\n";
  if (rated) sources += "    continuous_w: 5000\n    surge_w: 10000\n";
  if (read) {
    sources += "    load_w_l1: [vebus.ac_out_l1_w]\n    load_w_l2: [vebus.ac_out_l2_w]\n"
               "    overload_l1: [vebus.overload_l1]\n    overload_l2: [vebus.overload_l2]\n";
    if (rated) sources += "    overload: [vebus.overload]\n";
  }
  put("${AC_SOURCES}", sources);
  put("${VEBUS}", read ? "    vebus_unit: 227" : "");
  return text;
}

// Both zones freezing, the sun up, a full bank; each load on its leg, the house on the legs in
// `house_share`'s proportions.
void split_morning(test::SimSite& site, const std::string& cfg, double house_w, std::array<double, 3> house_share) {
  site.scenario.rows.push_back({0, {{"battery_v", 55.5}, {"pv_w", 14000}, {"house_w", house_w}, {"battery_temp_c", 10},
                                    {"zone.Heat Room", -2}, {"zone.Main Room", -7}}});
  site.model.inverter_continuous_w = kSplitLegRatingW;
  site.model.inverter_phases = 2;
  site.model.house_phase_share = house_share;
  for (const char* relay : {"primary_s21", "heat_room_heater", "heat_room_fan"}) site.model.loads.at(relay).phase = 1;
  for (const char* relay : {"dump_s19_1", "main_room_heater", "main_room_fan"}) site.model.loads.at(relay).phase = 2;
  site.model.victron_pv_share = 1;  // the GX's MPPTs have all the panels: no Sol-Ark here
  REQUIRE(site.start(cfg, kSplitMorningPst));
}

struct SplitPeaks {
  double l1_w = 0, l2_w = 0;
  int warned_cycles = 0;  // cycles with the inverter's own overload word above 0 (36, 46 or 50)
};

// 15 minutes, each leg's highest load and the inverter's words watched after every cycle.
SplitPeaks split_quarter_hour(test::SimSite& site) {
  SplitPeaks p;
  for (int i = 0; i < 450; ++i) {
    site.step();
    site.with_model([&](sim::SiteModel& m) {
      p.l1_w = std::max(p.l1_w, m.phase_load_w(1));
      p.l2_w = std::max(p.l2_w, m.phase_load_w(2));
      p.warned_cycles += m.overload_word() != 0 || m.overload_word(1) != 0 || m.overload_word(2) != 0;
    });
  }
  return p;
}

std::string leg_reason(test::SimSite& site, const std::string& relay) {
  return site.broker.last("shack/load/" + relay + "/reason");
}

bool has_text(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("split phase: without a budget every load starts and a leg above its rating trips the inverter") {
  test::SimSite site(227);
  split_morning(site, split_config(Budget::none), 800, {0.5, 0.5, 0});
  site.run_until(600);
  CHECK(site.model.trips >= 1);
  CHECK(site.model.tripped_phase >= 1);  // a leg, not the sum, went past its rating
}

TEST_CASE("split phase: with each leg's rating the budget holds on both legs, and a wait names its leg") {
  test::SimSite site(227);
  split_morning(site, split_config(Budget::rated), 800, {0.5, 0.5, 0});
  const SplitPeaks peaks = split_quarter_hour(site);
  CHECK(site.model.trips == 0);
  CHECK(peaks.warned_cycles == 0);  // not even a warning: no leg ever went past its rating
  CHECK(peaks.l1_w <= kSplitLegRatingW - kSplitMarginW);
  CHECK(peaks.l2_w <= kSplitLegRatingW - kSplitMarginW);

  // On each leg the rules' precedence (rules/decide.cpp: miners by priority, then zones) starts
  // the miner; its leg then has no room for the heater, which waits with rules/reason.cpp's
  // ac_budget text, "start held: room left on <source> L<n>: <room> W (the start needs <draw> W)".
  const std::string heater_l1 = leg_reason(site, "heat_room_heater"), heater_l2 = leg_reason(site, "main_room_heater");
  INFO("heat_room_heater: ", heater_l1);
  INFO("main_room_heater: ", heater_l2);
  INFO("primary_s21: ", leg_reason(site, "primary_s21"));
  INFO("dump_s19_1: ", leg_reason(site, "dump_s19_1"));
  CHECK(site.on("primary_s21"));
  CHECK(site.on("dump_s19_1"));
  CHECK_FALSE(site.on("heat_room_heater"));
  CHECK_FALSE(site.on("main_room_heater"));
  CHECK(has_text(heater_l1, "\"name\":\"ac_budget\""));
  CHECK(has_text(heater_l1, "start held: room left on inverter L1: "));
  CHECK(has_text(heater_l1, "(the start needs 1500 W)"));
  CHECK(has_text(heater_l2, "\"name\":\"ac_budget\""));
  CHECK(has_text(heater_l2, "start held: room left on inverter L2: "));

  // Per leg, not the sum: the whole inverter had room for each waiting heater, its leg had not.
  double l1_w = 0, l2_w = 0;
  site.with_model([&](sim::SiteModel& m) { l1_w = m.phase_load_w(1), l2_w = m.phase_load_w(2); });
  CHECK(l1_w + l2_w + kSplitHeaterW <= 2 * (kSplitLegRatingW - kSplitMarginW));
  CHECK(l1_w + kSplitHeaterW > kSplitLegRatingW - kSplitMarginW);
  CHECK(l2_w + kSplitHeaterW > kSplitLegRatingW - kSplitMarginW);
}

TEST_CASE("split phase: a leg full of the house holds its own loads, the other leg's start") {
  test::SimSite site(227);
  // 4,500 W of house, all on L1: 300 W of room left there, 4,800 W on L2.
  split_morning(site, split_config(Budget::rated), 4500, {1, 0, 0});
  const SplitPeaks peaks = split_quarter_hour(site);
  CHECK(site.model.trips == 0);
  CHECK(peaks.warned_cycles == 0);
  CHECK(peaks.l1_w <= kSplitLegRatingW - kSplitMarginW);
  CHECK(peaks.l2_w <= kSplitLegRatingW - kSplitMarginW);
  const std::string primary = leg_reason(site, "primary_s21"), heater_l1 = leg_reason(site, "heat_room_heater");
  INFO("primary_s21: ", primary);
  INFO("heat_room_heater: ", heater_l1);
  INFO("dump_s19_1: ", leg_reason(site, "dump_s19_1"));
  INFO("main_room_heater: ", leg_reason(site, "main_room_heater"));
  // L2's miner and heater (3,250 + 1,500 W) both fit its 4,800 W and run ...
  CHECK(site.on("dump_s19_1"));
  CHECK(site.on("main_room_heater"));
  // ... while neither of L1's fits its 300 W: each waits, naming L1 and its room.
  CHECK_FALSE(site.on("primary_s21"));
  CHECK_FALSE(site.on("heat_room_heater"));
  CHECK(has_text(primary, "start held: room left on inverter L1: 300 W (the start needs 3878 W)"));
  CHECK(has_text(heater_l1, "start held: room left on inverter L1: 300 W (the start needs 1500 W)"));
}

TEST_CASE("split phase: with only the inverter's per-leg words read, a leg that warns sheds its own loads before the trip") {
  test::SimSite site(227);
  split_morning(site, split_config(Budget::words_only), 800, {0.5, 0.5, 0});
  bool shed_l1 = false, shed_l2 = false;
  int warned_l1 = 0, warned_l2 = 0;
  for (int i = 0; i < 450; ++i) {  // 15 minutes
    site.step();
    // After each step: what the next cycle reads (the model moves before the daemon cycles).
    site.with_model([&](sim::SiteModel& m) {
      warned_l1 += m.overload_word(1) == 1;
      warned_l2 += m.overload_word(2) == 1;
    });
    for (const char* relay : {"primary_s21", "dump_s19_1", "heat_room_heater", "main_room_heater"}) {
      const std::string r = leg_reason(site, relay);
      shed_l1 = shed_l1 || has_text(r, "shed: overload on inverter L1");
      shed_l2 = shed_l2 || has_text(r, "shed: overload on inverter L2");
    }
  }
  INFO("warned cycles: L1 ", warned_l1, ", L2 ", warned_l2);
  CHECK(warned_l1 + warned_l2 > 0);  // a leg did warn on its own word: its loads went past its rating ...
  CHECK(shed_l1 == (warned_l1 > 0));  // ... a load on that leg, and only on a leg that warned, went off ...
  CHECK(shed_l2 == (warned_l2 > 0));
  CHECK(site.model.trips == 0);  // ... before the tolerance ran out
}

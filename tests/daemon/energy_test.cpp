// Energy per load and day: metered where the relay meters, rated where it does not, hours only
// where neither; a gap nobody saw is not charged; a new day starts from zero.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "daemon/vocab/publish.hpp"
#include "daemon/site/energy.hpp"

using namespace std::chrono_literals;
using shackd::Draw;
using shackd::EnergyMeter;

namespace {
const rules::SteadyTime kEnergyT0 = rules::SteadyTime{} + 1000h;
Draw miner(bool on, std::optional<double> metered = std::nullopt) { return {"miner:Dump", on, metered, 3250}; }
Draw fan(bool on) { return {"fan:Heat Room", on, std::nullopt, 0}; }
}  // namespace

TEST_CASE("rated, metered and unrated draws, each counted as the load was over the interval") {
  EnergyMeter m;
  CHECK_FALSE(m.tick("2026-11-23", kEnergyT0, {miner(true), fan(true)}));
  // An hour in 2 s cycles: the miner on its rating, the fan with no rating.
  for (int i = 1; i <= 1800; ++i) m.tick("2026-11-23", kEnergyT0 + i * 2s, {miner(true), fan(true)});
  CHECK(m.totals().at("miner:Dump").wh == doctest::Approx(3250));
  CHECK(m.totals().at("miner:Dump").on_s == doctest::Approx(3600));
  CHECK(m.totals().at("miner:Dump").metered_s == 0);
  CHECK(m.totals().at("fan:Heat Room").wh == 0);
  CHECK(m.totals().at("fan:Heat Room").unrated_s == doctest::Approx(3600));
  // Its relay meters 3100 W: half an hour of it. The state of the cycle before is what counts.
  const auto t1 = kEnergyT0 + 3600s;
  for (int i = 0; i < 900; ++i) m.tick("2026-11-23", t1 + i * 2s, {miner(true, 3100.0), fan(false)});
  m.tick("2026-11-23", t1 + 1800s, {miner(false), fan(false)});
  CHECK(m.totals().at("miner:Dump").wh == doctest::Approx(3250 + 1550));
  CHECK(m.totals().at("miner:Dump").metered_s == doctest::Approx(1800));
  CHECK(m.totals().at("fan:Heat Room").on_s == doctest::Approx(3600));  // off at t1: not counted after
  // Off for a while: nothing.
  for (int i = 1; i <= 30; ++i) m.tick("2026-11-23", t1 + 1800s + i * 2s, {miner(false)});
  CHECK(m.totals().at("miner:Dump").on_s == doctest::Approx(5400));
}

// Issue 48: a miner's API said -50 W; the day's energy went negative and load_energy's CHECK failed
// every store write after it. A meter's word no load can draw is no word: the rating counts.
TEST_CASE("a metered draw that is negative, NaN or absurd counts as the rating, never below 0") {
  EnergyMeter m;
  m.tick("2026-11-23", kEnergyT0, {miner(true, -50.0)});
  for (int i = 1; i <= 1800; ++i) {
    const double lie = i % 3 == 0 ? -1e9 : (i % 3 == 1 ? std::nan("") : 1e308);
    m.tick("2026-11-23", kEnergyT0 + i * 2s, {miner(true, lie)});
  }
  CHECK(m.totals().at("miner:Dump").wh == doctest::Approx(3250));  // an hour on its rating
  CHECK(m.totals().at("miner:Dump").metered_s == 0);
}

TEST_CASE("a gap longer than a minute (a stopped process, a suspended Pi) is not charged") {
  EnergyMeter m;
  m.tick("2026-11-23", kEnergyT0, {miner(true)});
  m.tick("2026-11-23", kEnergyT0 + 10min, {miner(true)});
  CHECK(m.totals().at("miner:Dump").on_s == 0);
  m.tick("2026-11-23", kEnergyT0 + 10min + 30s, {miner(true)});
  CHECK(m.totals().at("miner:Dump").on_s == doctest::Approx(30));
  // A clock that stands still or goes back charges nothing either.
  m.tick("2026-11-23", kEnergyT0 + 10min + 30s, {miner(true)});
  CHECK(m.totals().at("miner:Dump").on_s == doctest::Approx(30));
}

TEST_CASE("a restart carries the day on; midnight hands the day over and starts from zero") {
  EnergyMeter m;
  m.restore("2026-11-23", {{"miner:Dump", shackd::LoadEnergy{1000, 1200, 0, 0}}});
  m.tick("2026-11-23", kEnergyT0, {miner(true)});
  m.tick("2026-11-23", kEnergyT0 + 36s, {miner(true)});
  CHECK(m.totals().at("miner:Dump").wh == doctest::Approx(1032.5));
  const auto done = m.tick("2026-11-24", kEnergyT0 + 72s, {miner(true), fan(false)});
  REQUIRE(done);
  CHECK(done->day == "2026-11-23");
  CHECK(done->totals.at("miner:Dump").wh == doctest::Approx(1065));  // the last cycle went to the old day
  CHECK(m.day() == "2026-11-24");
  CHECK(m.totals().at("miner:Dump").wh == 0);
  CHECK(m.totals().count("fan:Heat Room") == 1);  // every load has a row, on or not
  // A restored day that is not today is not today's.
  EnergyMeter r;
  r.restore("2026-11-22", {{"miner:Dump", shackd::LoadEnergy{5000, 1, 0, 0}}});
  const auto old = r.tick("2026-11-23", kEnergyT0, {miner(false)});
  REQUIRE(old);
  CHECK(old->day == "2026-11-22");
  CHECK(r.totals().at("miner:Dump").wh == 0);
}

TEST_CASE("<prefix>/load/<id>/energy says where its number comes from") {
  using nlohmann::json;
  const json rated = json::parse(shackd::energy_json("2026-11-23", {3250, 3600, 0, 0}, 3250));
  CHECK(rated["day"] == "2026-11-23");
  CHECK(rated["today_kwh"] == 3.25);
  CHECK(rated["on_h"] == 1);
  CHECK(rated["basis"] == "rated");
  CHECK(rated["rated_w"] == 3250);
  CHECK(json::parse(shackd::energy_json("d", {1500, 1800, 1800, 0}, 3250))["basis"] == "metered");
  CHECK(json::parse(shackd::energy_json("d", {4800, 5400, 1800, 0}, 3250))["basis"] == "metered and rated");
  CHECK(json::parse(shackd::energy_json("d", {0, 0, 0, 0}, 3250))["today_kwh"] == 0);  // off all day: 0 kWh
  // Switched on a fraction of a second ago: its rating knows the draw (not "no meter, no rating").
  const json just_on = json::parse(shackd::energy_json("d", {0.27, 0.3, 0, 0}, 3250));
  CHECK(just_on["today_kwh"].is_number());
  CHECK(just_on["basis"] == "rated");
  // The same fraction without a rating is unknown.
  CHECK(json::parse(shackd::energy_json("d", {0, 0.3, 0, 0.3}, 0))["today_kwh"].is_null());
  const json fan = json::parse(shackd::energy_json("d", {0, 3600, 0, 3600}, 0));
  CHECK(fan["today_kwh"].is_null());  // on an hour, draw unknown: no number rather than 0
  CHECK(fan["on_h"] == 1);
  CHECK(fan["basis"] == "none");
}

TEST_CASE("the site's flows: PV, and the battery's power split into charged and discharged") {
  using shackd::kBatteryInFlow;
  using shackd::kBatteryOutFlow;
  using shackd::kPvFlow;
  rules::Snapshot s;
  s.now = kEnergyT0;
  s.pv_w = rules::Reading{4200, kEnergyT0 - 2s};
  s.battery_a = rules::Reading{-20, kEnergyT0 - 2s};  // discharging
  auto flows = shackd::site_flows(s, 52.0, 30s);
  REQUIRE(flows.size() == 3);
  CHECK(flows[0].load_id == kPvFlow);
  CHECK(flows[0].metered_w == 4200);
  CHECK(flows[1].load_id == kBatteryInFlow);
  CHECK(flows[1].metered_w == 0);
  CHECK(flows[2].load_id == kBatteryOutFlow);
  CHECK(flows[2].metered_w == doctest::Approx(1040));
  s.battery_a = rules::Reading{30, kEnergyT0 - 2s};
  flows = shackd::site_flows(s, 52.0, 30s);
  CHECK(flows[1].metered_w == doctest::Approx(1560));
  CHECK(flows[2].metered_w == 0);
  // No voltage the rules trust, or a stale current: the battery's flow is unknown, not 0 W.
  flows = shackd::site_flows(s, std::nullopt, 30s);
  CHECK_FALSE(flows[1].metered_w);
  CHECK_FALSE(flows[2].metered_w);
  s.battery_a->as_of = kEnergyT0 - 31s;
  s.pv_w = rules::Reading{-3, kEnergyT0};  // a meter's noise at night
  flows = shackd::site_flows(s, 52.0, 30s);
  CHECK_FALSE(flows[1].metered_w);
  CHECK(flows[0].metered_w == 0);
  s.pv_w.reset();
  CHECK_FALSE(shackd::site_flows(s, 52.0, 30s)[0].metered_w);

  // Counted by the meter beside the loads: an hour at 4200 W, then an hour unknown.
  EnergyMeter m;
  const Draw pv{kPvFlow, true, 4200.0, 0}, unknown{kPvFlow, true, std::nullopt, 0};
  for (int i = 0; i < 1800; ++i) m.tick("2026-11-23", kEnergyT0 + i * 2s, {pv});
  for (int i = 0; i <= 1800; ++i) m.tick("2026-11-23", kEnergyT0 + 3600s + i * 2s, {unknown});
  const auto& e = m.totals().at(kPvFlow);
  CHECK(e.wh == doctest::Approx(4200));
  CHECK(e.metered_s == doctest::Approx(3600));
  CHECK(e.unrated_s == doctest::Approx(3600));
  const auto j = nlohmann::json::parse(shackd::flow_energy_json("2026-11-23", e));
  CHECK(j["today_kwh"] == 4.2);
  CHECK(j["measured_h"] == 1);
  CHECK(j["unknown_h"] == 1);
  // Nothing measured yet today: unknown, not 0; at midnight (nothing counted): 0.
  CHECK(nlohmann::json::parse(shackd::flow_energy_json("d", {0, 60, 0, 60}))["today_kwh"].is_null());
  CHECK(nlohmann::json::parse(shackd::flow_energy_json("d", {}))["today_kwh"] == 0);
}

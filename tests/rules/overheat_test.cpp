// A miner that reaches its temperature limit (the firmware's own "hot", or the owner's
// overheat_c) is stopped at once, with the reason, and kept off for the cooldown and until it
// reads cooler; without both a reading and a limit nothing changes.
#include "harness.hpp"
#include "rules/host_health.hpp"

using namespace std::chrono_literals;
using rules::OverrideMode;
using rules::ReasonCode;

namespace {
test::Site running_primary() {
  test::Site s;
  s.monitor_v = 52.3;
  s.pv_w = 8450;
  s.load_w = 1850;
  s.miner_temp_c[0] = 70;
  s.miner_temp_limit_c[0] = 90;
  s.run(70s);
  REQUIRE(s.primary().on);
  return s;
}
}  // namespace

TEST_CASE("a miner at its limit stops at once, says why, and waits out the cooldown") {
  auto s = running_primary();
  s.miner_temp_c[0] = 91.5;
  s.step(10s);
  CHECK_FALSE(s.primary().on);  // its minimum on-time does not hold it
  CHECK(s.primary().reason.code == ReasonCode::overheat);
  CHECK(rules::describe(s.primary().reason) == "miner overheated: its hottest sensor: 91.5 °C (limit 90.0 °C), 600 s left");

  // Its API goes quiet with its relay cut: the cooldown alone keeps it off.
  s.miner_temp_c[0].missing();
  s.run(590s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::overheat);
  CHECK(s.primary().reason.remaining == 10s);
  s.run(10s);
  CHECK(s.primary().reason.code != ReasonCode::overheat);
  s.run(5min);
  CHECK(s.primary().on);  // the ordinary start, its delays included
}

TEST_CASE("after the cooldown, a miner still reading near its limit stays off") {
  auto s = running_primary();
  s.miner_temp_c[0] = 90;  // at the limit counts
  s.step(10s);
  REQUIRE(s.primary().reason.code == ReasonCode::overheat);
  s.miner_temp_c[0] = 86;  // cooler, but within 5 °C of it
  s.run(15min);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::overheat);
  CHECK(s.primary().reason.remaining == 0s);
  s.miner_temp_c[0] = 85;
  s.step(10s);
  CHECK(s.primary().reason.code != ReasonCode::overheat);
}

TEST_CASE("overheat outranks an override on; the battery's stops outrank overheat") {
  auto s = running_primary();
  s.state.miners[0].override_.mode = OverrideMode::on;
  s.miner_temp_c[0] = 95;
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::overheat);
  s.monitor_v = 44.5;  // below critical low (45.0 V)
  s.step(10s);
  CHECK(s.primary().reason.code == ReasonCode::critical_low);
}

TEST_CASE("a hot reading without a limit, a limit without a reading, or a stale reading change nothing") {
  auto s = running_primary();
  s.miner_temp_limit_c[0].reset();
  s.miner_temp_c[0] = 120;
  s.run(60s);
  CHECK(s.primary().on);
  s.miner_temp_limit_c[0] = 90;
  s.miner_temp_c[0].missing();
  s.run(60s);
  CHECK(s.primary().on);
  s.miner_temp_c[0] = 95;
  s.miner_temp_c[0].freeze();
  s.run(10min);  // the one fresh reading at 95 °C stopped it; a frozen one must not hold it off forever
  CHECK(s.primary().reason.code != ReasonCode::overheat);
}

// The owner's host.shed_loads_above_c (issue 47): while the controller's processor is too hot the
// shell says so in the snapshot, and every miner and heater goes off at once, an override on
// included, with the reason; fans keep cooling; when it has cooled they start as usual.
TEST_CASE("a controller that overheats sheds the miners and heaters at once; fans keep cooling") {
  auto s = running_primary();
  s.p.zones[1].heating_priority = {rules::HeatSource::heater, rules::HeatSource::none};
  s.zone_c[1] = -5;  // its heater heats
  s.zone_c[0] = 40;  // its fan cools
  s.pv_w = 12000;
  s.run(10min);
  REQUIRE(s.primary().on);
  REQUIRE(s.d.zones[1].heater.on);
  REQUIRE(s.d.zones[0].fan.on);
  s.state.miners[0].override_.mode = OverrideMode::on;
  s.controller_overheat = rules::Snapshot::ControllerHeat{86.2, 85};
  s.step(2s);
  CHECK_FALSE(s.primary().on);  // at once: its minimum on-time does not hold it
  CHECK(s.primary().reason.code == ReasonCode::controller_overheat);
  CHECK(rules::describe(s.primary().reason) == "loads shed: the controller's processor is too hot: 86.2 °C (limit 85.0 °C)");
  // A safety stop: a miner's soft stop gives its API one cycle, then the relay is cut.
  CHECK(s.primary().safety_stop);
  CHECK_FALSE(s.d.zones[1].heater.on);
  CHECK(s.d.zones[1].heater.reason.code == ReasonCode::controller_overheat);
  CHECK(s.d.zones[0].fan.on);  // the fan is what cools the room
  s.controller_overheat.reset();
  s.state.miners[0].override_.mode = OverrideMode::automatic;
  s.run(10min);
  CHECK(s.primary().on);
}

// The controller's own health as alarms with hysteresis (rules/host_health.hpp).
namespace {
struct HostRig {
  rules::HostHealthState st;
  rules::HostLimits lim;
  rules::SteadyTime now = rules::SteadyTime{} + 1000h;
  std::vector<rules::HostAlarmChange> step(rules::HostInputs in, std::chrono::seconds dt = 10s) {
    now += dt;
    return rules::host_health_step(st, in, lim, now);
  }
  bool active(rules::HostAlarm a) const { return st.active[static_cast<std::size_t>(a)]; }
};
}  // namespace

TEST_CASE("controller under-voltage: raised at once, held while it flickers, cleared 10 min after it was last seen") {
  HostRig r;
  auto c = r.step({.under_voltage = false});
  CHECK(c.empty());
  c = r.step({.under_voltage = true});
  REQUIRE(c.size() == 1);
  CHECK(c[0].alarm == rules::HostAlarm::under_voltage);
  CHECK(c[0].raised);
  CHECK(c[0].text.find("controller under-voltage") == 0);
  // A supply sagging at night: set, clear, set... one alarm, not one per dip.
  for (int i = 0; i < 30; ++i) CHECK(r.step({.under_voltage = i % 3 == 0}).empty());
  // Last seen at the 28th step; 10 min of clear readings later it clears, once.
  int cleared = 0;
  for (int i = 0; i < 70; ++i) {
    for (const auto& x : r.step({.under_voltage = false})) cleared += !x.raised;
  }
  CHECK(cleared == 1);
  CHECK_FALSE(r.active(rules::HostAlarm::under_voltage));
}

TEST_CASE("controller temperature: raised at 80 °C, cleared below 75 °C; loads shed at the owner's limit until 5 °C below") {
  HostRig r;
  r.lim.shed_above_c = 85;
  CHECK(r.step({.temp_c = 79.9}).empty());
  auto c = r.step({.temp_c = 80.0});
  REQUIRE(c.size() == 1);
  CHECK(c[0].text == "controller hot: 80.0 °C (alarm at 80.0 °C)");
  CHECK(r.step({.temp_c = 76}).empty());  // within the hysteresis: still hot
  CHECK_FALSE(r.st.shedding);
  r.step({.temp_c = 85});
  CHECK(r.st.shedding);
  r.step({.temp_c = 81});
  CHECK(r.st.shedding);  // not below 80 yet
  r.step({.temp_c = 79.9});
  CHECK_FALSE(r.st.shedding);
  c = r.step({.temp_c = 74.9});
  REQUIRE(c.size() == 1);
  CHECK_FALSE(c[0].raised);
  // No owner's limit: never shed, however hot.
  HostRig no_shed;
  no_shed.step({.temp_c = 105});
  CHECK_FALSE(no_shed.st.shedding);
  CHECK(no_shed.active(rules::HostAlarm::hot));
}

TEST_CASE("controller storage: its own wear estimate and pre-EOL raise an alarm; a new card clears it") {
  HostRig r;
  CHECK(r.step({.life_used_pct = 80, .pre_eol = 1}).empty());
  auto c = r.step({.life_used_pct = 90, .pre_eol = 1});
  REQUIRE(c.size() == 1);
  CHECK(c[0].text.find("up to 90 % of its life used") != std::string::npos);
  CHECK(r.step({.life_used_pct = 80, .pre_eol = 1}).empty());  // held within 10 %
  c = r.step({.life_used_pct = 10, .pre_eol = 1});
  REQUIRE(c.size() == 1);
  CHECK_FALSE(c[0].raised);
  c = r.step({.life_used_pct = 30, .pre_eol = 2});  // pre-EOL "warning": 80 % of its spare blocks gone
  REQUIRE(c.size() == 1);
  CHECK(c[0].raised);
}

TEST_CASE("controller writes: a rate over the window, an alarm above 30 MB/h cleared below 20; a counter that goes back proves nothing") {
  HostRig r;
  std::uint64_t bytes = 0;
  std::vector<rules::HostAlarmChange> all;
  // 1 MB a minute (60 MB/h) for 10 minutes.
  for (int i = 0; i < 60; ++i) {
    bytes += 1'000'000 / 6;
    for (auto& x : r.step({.written_bytes = bytes})) all.push_back(x);
  }
  REQUIRE(r.st.write_mb_per_h);
  CHECK(*r.st.write_mb_per_h == doctest::Approx(60).epsilon(0.02));
  REQUIRE(all.size() == 1);
  CHECK(all[0].alarm == rules::HostAlarm::heavy_writes);
  CHECK(all[0].raised);
  // 25 MB/h: between the two limits, still raised.
  for (int i = 0; i < 60; ++i) CHECK(r.step({.written_bytes = bytes += 25'000'000 / 360}).empty());
  // 2 MB/h: cleared, once.
  all.clear();
  for (int i = 0; i < 60; ++i) {
    for (auto& x : r.step({.written_bytes = bytes += 2'000'000 / 360})) all.push_back(x);
  }
  REQUIRE(all.size() == 1);
  CHECK_FALSE(all[0].raised);
  // A counter that went back (another process): no rate, no alarm.
  HostRig back;
  back.step({.written_bytes = 900'000'000});
  for (int i = 0; i < 60; ++i) back.step({.written_bytes = 1000});
  CHECK_FALSE(back.active(rules::HostAlarm::heavy_writes));
}

TEST_CASE("controller health: nothing read, nothing raised") {
  HostRig r;
  for (int i = 0; i < 100; ++i) CHECK(r.step({}).empty());
  CHECK_FALSE(r.st.write_mb_per_h);
}

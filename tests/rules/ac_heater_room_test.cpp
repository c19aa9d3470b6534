// A freezing zone's heater makes room (issue 59): held for lack of AC room (ac_budget or
// ac_surge), it sheds the running discretionary miners on its source and phase, lowest priority
// first, as many as its start needs (ac_heater_room, a safety stop), and starts in the same cycle.
#include "harness.hpp"

using namespace std::chrono_literals;
using rules::OverrideMode;
using rules::ReasonCode;

namespace {

// 8,000 W less 200 W of margin: both miners (3,878 + 3,250 W) run on 500 W of house; then the
// measured load is 7,600 W and the Main Room freezes: its heater (1,500 W) has 8000 - 200 - 7600
// = 200 W of room.
test::Site both_running_then_freezing() {
  test::Site s;
  s.instant();
  s.monitor_v = 55.0;
  s.pv_w = 12000;
  s.load_w = 500;
  s.p.miners[1].require_sunny = false;
  s.p.zones[0].heater_power_w = s.p.zones[1].heater_power_w = 1500;
  rules::AcSource a;
  a.name = "inverter";
  a.continuous_w = 8000;
  a.margin_w = 200;
  s.p.ac_sources = {a};
  s.ac[0].phase[0].load_w = 500;
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  s.ac[0].phase[0].load_w = 7600;
  s.step(10s);
  s.zone_c[1] = -6;
  return s;
}

}  // namespace

TEST_CASE("heater room: the lowest-priority running miner is shed, and the heater starts in the same cycle") {
  auto s = both_running_then_freezing();
  s.step(10s);
  // The dump (priority 3) gives back 3,250 W: 8000 - 200 - 4350 = 3450 >= 1500. The primary stays.
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().safety_stop);  // its relay cut now, no stop delay
  CHECK(s.dump().reason.code == ReasonCode::ac_heater_room);
  CHECK(rules::describe(s.dump().reason) == "shed: room left for the heater of Main Room: 200 W (the heater needs 1500 W)");
  CHECK(s.main_room().heater.on);
  CHECK(s.primary().on);
  // The next cycle the dump waits for room like any start: the heater holds it.
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_budget);
}

TEST_CASE("heater room: as many as its start needs, lowest priority first") {
  auto s = both_running_then_freezing();
  s.p.zones[1].heater_power_w = 4000;  // the dump's 3,250 W leaves 3,450 W: the primary too
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::ac_heater_room);
  CHECK(s.main_room().heater.on);
}

TEST_CASE("heater room: never shed when even every miner would not make the room") {
  auto s = both_running_then_freezing();
  s.p.zones[1].heater_power_w = 7500;  // 8000 - 200 - (7600 - 7128) = 7328 < 7500
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::ac_budget);
}

TEST_CASE("heater room: never a miner that heats a zone calling for heat") {
  auto s = both_running_then_freezing();
  s.p.zones[1].heater_power_w = 4000;  // needs both miners
  s.zone_c[0] = -1;                    // the Heat Room calls for heat: the primary heats it
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);  // the dump alone does not make the room: none is shed
  CHECK_FALSE(s.main_room().heater.on);
}

TEST_CASE("heater room: never a miner overridden ON; the next one instead") {
  auto s = both_running_then_freezing();
  s.state.miners[1].override_ = {OverrideMode::on, std::nullopt};
  s.step(10s);
  CHECK(s.dump().on);
  CHECK_FALSE(s.primary().on);  // 8000 - 200 - (7600 - 3878) = 4078 >= 1500
  CHECK(s.primary().reason.code == ReasonCode::ac_heater_room);
  CHECK(s.main_room().heater.on);
}

TEST_CASE("heater room: never for an overload hold") {
  auto s = both_running_then_freezing();
  s.zone_c[1] = 20;
  s.ac[0].overload = 1;
  s.step(10s);  // the dump is shed for the overload
  REQUIRE(s.dump().reason.code == ReasonCode::ac_overload);
  s.ac[0].overload = 0;
  s.zone_c[1] = -6;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::ac_overload_hold);
}

TEST_CASE("heater room: not while the heater's own start is not due (its min off-time)") {
  auto s = both_running_then_freezing();
  s.p.site.hvac_timing.min_off = 300s;
  s.state.zones[1].heater.last_change = s.now - 10s;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::min_off_pending);
}

TEST_CASE("heater room: only the miners on its own source and phase") {
  auto split = both_running_then_freezing();
  split.p.ac_sources[0].phases = 2;
  split.p.zones[1].heater_feed = {0, 1};  // the heater on L2, both miners on L1
  split.ac[0].phase[1].load_w = 7600;
  split.step(10s);
  CHECK(split.primary().on);
  CHECK(split.dump().on);
  CHECK(split.main_room().heater.reason.code == ReasonCode::ac_budget);
}

TEST_CASE("heater room: a miner following a power target gives back its last target, not its maximum") {
  auto s = both_running_then_freezing();
  // The dump follows a target up to 3,250 W, last set at 1,000 W: it gives back 1,000 W, which
  // leaves 1,200 W, short of 1,500: the primary goes too.
  rules::PowerTarget t;
  t.min_w = 500;
  t.max_w = 3250;
  s.p.miners[1].target = t;
  s.state.miners[1].target_w = 1000;
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK_FALSE(s.primary().on);
  CHECK(s.main_room().heater.on);
}

#include <doctest/doctest.h>

#include "drivers/readings.hpp"

using namespace std::chrono_literals;

TEST_CASE("first_fresh prefers the first fresh source, else the newest") {
  drivers::ReadingStore s;
  const auto t0 = rules::SteadyTime{} + 1000h;
  s.set("battery.battery_a", 10, t0 - 60s);  // stale
  s.set("system.battery_a", 11, t0 - 1s);
  s.set("solark.battery_a", 12, t0);
  const std::vector<std::string> order{"battery.battery_a", "system.battery_a", "solark.battery_a"};
  CHECK(s.first_fresh(order, t0, 30s)->value == 11);
  s.set("battery.battery_a", 10, t0);
  CHECK(s.first_fresh(order, t0, 30s)->value == 10);
  drivers::ReadingStore old;
  old.set("system.battery_a", 11, t0 - 100s);
  old.set("solark.battery_a", 12, t0 - 50s);
  CHECK(old.first_fresh(order, t0, 30s)->value == 12);
  CHECK_FALSE(drivers::ReadingStore{}.first_fresh(order, t0, 30s));
}

TEST_CASE("a sum is as old as its oldest part and missing if any part is") {
  drivers::ReadingStore s;
  const auto t0 = rules::SteadyTime{} + 1000h;
  s.set("a", 1, t0);
  s.set("b", 2, t0 - 5s);
  const auto sum = s.sum({"a", "b"});
  REQUIRE(sum);
  CHECK(sum->value == 3);
  CHECK(sum->as_of == t0 - 5s);
  CHECK_FALSE(s.sum({"a", "c"}));
  CHECK_FALSE(s.sum({}));
}

TEST_CASE("a sum with a part stale or missing is a lower bound of its fresh parts, marked partial") {
  drivers::ReadingStore s;
  const auto t0 = rules::SteadyTime{} + 1000h;
  s.set("gx.pv", 4000, t0 - 60s);  // the GX went quiet a minute ago
  s.set("solark.pv1", 2500, t0);
  s.set("solark.pv2", -3, t0);     // a negative part cannot raise a lower bound's claim
  const auto partial = s.sum_fresh({"gx.pv", "solark.pv1", "solark.pv2"}, t0, 30s);
  REQUIRE(partial.reading);
  CHECK(partial.partial);
  CHECK(partial.reading->value == 2500);
  CHECK(partial.reading->as_of == t0);
  // All fresh: the whole sum, not partial (negative parts as they are).
  s.set("gx.pv", 4000, t0);
  const auto whole = s.sum_fresh({"gx.pv", "solark.pv1", "solark.pv2"}, t0, 30s);
  CHECK_FALSE(whole.partial);
  CHECK(whole.reading->value == 6497);
  // A part never read is missing: the rest is partial.
  CHECK(s.sum_fresh({"gx.pv", "nonesuch"}, t0, 30s).partial);
  // Nothing fresh: the old sum, stale as a whole, not partial.
  const auto stale = s.sum_fresh({"gx.pv", "solark.pv1"}, t0 + 5min, 30s);
  CHECK_FALSE(stale.partial);
  CHECK(stale.reading->value == 6500);
}

TEST_CASE("the chargers' word that they hold PV back: limited tracking, the stage only where 791 is not read; stale is unknown") {
  drivers::SnapshotMapping m;
  m.chargers_limiting = {{"charger1.tracking_mode", {1}, ""},
                         {"charger1.charge_state", {4, 5, 6}, "", "charger1.tracking_mode"},
                         {"charger2.tracking_mode", {1}, "charger 2 limited"},
                         {"charger2.charge_state", {4, 5, 6}, "", "charger2.tracking_mode"}};
  const auto t0 = rules::SteadyTime{} + 1000h;
  drivers::ReadingStore s;
  const auto snap = [&] { return drivers::build_snapshot(s, m, t0, std::nullopt); };
  CHECK_FALSE(snap().chargers_limiting);  // nothing read: unknown
  s.set("charger1.charge_state", 3, t0);  // bulk
  s.set("charger1.tracking_mode", 2, t0);  // MPPT
  REQUIRE(snap().chargers_limiting);
  CHECK(snap().chargers_limiting->value == 0);
  // A cloud over a full bank: the stage stays at float while the MPPT takes all it can. The
  // tracking mode is the word: not limiting (the stage alone said limiting before).
  s.set("charger1.charge_state", 5, t0);
  CHECK(snap().chargers_limiting->value == 0);
  s.set("charger2.charge_state", 252, t0);  // external control (DVCC): the state says nothing ...
  s.set("charger2.tracking_mode", 1, t0);   // ... the tracking mode does
  CHECK(snap().chargers_limiting->value == 1);
  CHECK(snap().chargers_evidence == "charger 2 limited");
  s.set("charger2.tracking_mode", 1, t0 - 60s);  // stale: no longer evidence, and 252 is none
  CHECK(snap().chargers_limiting->value == 0);
  // A charger whose 791 is not read (its reading stale or never there): its stage is the word.
  s.set("charger1.tracking_mode", 2, t0 - 60s);
  CHECK(snap().chargers_limiting->value == 1);
  CHECK(snap().chargers_evidence == "charger1.charge_state = 5");  // no label
  drivers::ReadingStore old_firmware;
  old_firmware.set("charger1.charge_state", 4, t0);
  CHECK(drivers::build_snapshot(old_firmware, m, t0, std::nullopt).chargers_limiting->value == 1);
}

TEST_CASE("a charger with no state register: its battery held at absorption, or at float with a taper") {
  drivers::SnapshotMapping m;
  drivers::SnapshotMapping::HeldAtSetpoint h;
  h.label = "the Sol-Ark";
  h.battery_v = "solark.battery_v";
  h.battery_a = "solark.battery_a";
  h.pv_w = {"solark.pv1_w", "solark.pv2_w"};
  h.absorption_v = 57.6;
  h.float_v = 55.0;
  m.chargers_held = {h};
  const auto t0 = rules::SteadyTime{} + 1000h;
  drivers::ReadingStore s;
  const auto limiting = [&]() { return drivers::build_snapshot(s, m, t0, std::nullopt).chargers_limiting; };
  CHECK_FALSE(limiting());  // nothing read: unknown
  // Bulk: 54.1 V and 80 A into the battery, 6 kW of PV: taking all it can.
  s.set("solark.battery_v", 54.1, t0);
  s.set("solark.battery_a", 80, t0);
  s.set("solark.pv1_w", 4000, t0);
  s.set("solark.pv2_w", 2000, t0);
  REQUIRE(limiting());
  CHECK(limiting()->value == 0);
  // Bulk passing the float voltage on its way up: still a large current, still not held.
  s.set("solark.battery_v", 55.4, t0);
  CHECK(limiting()->value == 0);
  // Absorption: at the setpoint, whatever the current; the evidence says so in words.
  s.set("solark.battery_v", 57.5, t0);
  CHECK(limiting()->value == 1);
  CHECK(drivers::build_snapshot(s, m, t0, std::nullopt).chargers_evidence ==
        "the Sol-Ark's battery held at 57.50 V, +80.0 A, with 6000 W of PV");
  // Float: 55.0 V and a taper of 3 A, 1.8 kW of PV (what the house takes): held.
  s.set("solark.battery_v", 55.0, t0);
  s.set("solark.battery_a", 3, t0);
  s.set("solark.pv1_w", 1200, t0);
  s.set("solark.pv2_w", 600, t0);
  CHECK(limiting()->value == 1);
  // The sun gone: the same voltage is no charger holding anything back.
  s.set("solark.pv1_w", 0, t0);
  s.set("solark.pv2_w", 10, t0);
  CHECK(limiting()->value == 0);
  // A stale voltage is no evidence either way.
  s.set("solark.pv1_w", 1200, t0);
  s.set("solark.battery_v", 55.0, t0 - 60s);
  CHECK_FALSE(limiting());
  // With a GX charger's word as well: any one that holds back is enough.
  s.set("solark.battery_v", 54.0, t0);
  m.chargers_limiting = {{"charger1.charge_state", {4, 5, 6}, "GX solar charger 1 in absorption, float or storage"}};
  s.set("charger1.charge_state", 5, t0);
  CHECK(limiting()->value == 1);
  CHECK(drivers::build_snapshot(s, m, t0, std::nullopt).chargers_evidence == "GX solar charger 1 in absorption, float or storage");
  s.set("charger1.charge_state", 3, t0);
  CHECK(limiting()->value == 0);
  // A charger's word outranks the inference: the GX's charger taking all it can means the bank
  // is below its setpoint for every charger, whatever the Sol-Ark's voltage reads (an overcast
  // afternoon in tests/scenarios/ ran on 180 s longer on the inference).
  s.set("solark.battery_v", 57.5, t0);
  CHECK(limiting()->value == 0);
  // With no word: a bank at the absorption voltage that gives more than the taper is paying for
  // its loads, not held (the voltage of a full LiFePO4 bank lags its discharge).
  m.chargers_limiting.clear();
  s.set("solark.battery_a", 3, t0);
  CHECK(limiting()->value == 1);
  s.set("solark.battery_a", -12, t0);
  CHECK(limiting()->value == 0);
}

// The simulator's split-phase inverter (sim/model.hpp, issue 59): each load on its leg, each leg's
// output and overload word as the GX serves them (vebus 23-25, 46, 50, 54; system 817-819), either
// leg past its rating for the tolerance trips the whole output; one phase as it always was.
#include <doctest/doctest.h>

#include "sim/model.hpp"

namespace {

sim::SiteModel split_model() {
  sim::SiteModel m;
  m.house_w = 800;
  m.inverter_continuous_w = 5000;
  m.inverter_phases = 2;
  m.house_phase_share = {1, 1, 0};
  m.loads["miner_l1"] = {3878, true, 1};
  m.loads["miner_l2"] = {3250, true, 2};
  m.loads["heater_l2"] = {1500, false, 2};
  return m;
}

}  // namespace

TEST_CASE("split phase: each leg carries its own loads and half the house, as the GX's per-leg registers say") {
  sim::SiteModel m = split_model();
  CHECK(m.phase_load_w(1) == doctest::Approx(4278));
  CHECK(m.phase_load_w(2) == doctest::Approx(3650));
  CHECK(m.phase_load_w(3) == 0);
  CHECK(m.load_w() == doctest::Approx(7928));  // the site's whole load is still the sum
  CHECK(*m.value("vebus", "ac_out_l1_w") == doctest::Approx(4278));
  CHECK(*m.value("vebus", "ac_out_l2_w") == doctest::Approx(3650));
  CHECK(*m.value("vebus", "ac_out_l3_w") == 0);
  CHECK(*m.value("system", "ac_consumption_l2_w") == doctest::Approx(3650));
  CHECK(*m.value("solark", "load_l2_w") == doctest::Approx(3650));
  CHECK(m.overload_word() == 0);
  CHECK(*m.value("vebus", "overload_l2") == 0);
}

TEST_CASE("split phase: a leg past its rating warns on its own word and trips the whole output after the tolerance") {
  sim::SiteModel m = split_model();
  m.loads["heater_l2"].on = true;  // L2: 400 + 3250 + 1500 = 5150 W of 5000
  CHECK(*m.value("vebus", "overload_l1") == 0);
  CHECK(*m.value("vebus", "overload_l2") == 1);
  CHECK(*m.value("vebus", "overload") == 1);  // the whole unit's: the worst leg's
  double t = 0;
  for (; t < 8; t += 2) m.advance(t, 2, nullptr);
  CHECK(m.trips == 0);
  CHECK(m.phase_over_s[1] == doctest::Approx(8));
  CHECK(m.phase_over_s[0] == 0);
  m.advance(t, 2, nullptr);
  CHECK(m.trips == 1);
  CHECK(m.tripped_phase == 2);
  CHECK(m.phase_load_w(1) == 0);  // every leg is off, not only the one that tripped
  CHECK(m.phase_load_w(2) == 0);
  CHECK(*m.value("vebus", "overload_l2") == 2);
  CHECK(*m.value("vebus", "overload_l1") == 0);
  CHECK(*m.value("vebus", "overload") == 2);
  for (const auto& [name, load] : m.loads) CHECK_FALSE(load.on);  // each relay lost its power
  m.advance(t + m.trip_restart_s, 2, nullptr);
  CHECK(m.tripped_phase == 0);  // back, the relays off: the house alone
  CHECK(m.phase_load_w(1) == doctest::Approx(400));
}

TEST_CASE("split phase: the sum above one leg's rating, each leg within its own: no warning, no trip") {
  sim::SiteModel m = split_model();  // 7928 W in all, above 5000, each leg below it
  for (double t = 0; t < 60; t += 2) m.advance(t, 2, nullptr);
  CHECK(m.trips == 0);
  CHECK(m.overload_word() == 0);
}

TEST_CASE("one phase: a load's leg is not read, the house and every load are on L1 as before") {
  sim::SiteModel m = split_model();
  m.inverter_phases = 1;
  CHECK(*m.value("vebus", "ac_out_l1_w") == doctest::Approx(7928));
  CHECK(*m.value("vebus", "ac_out_l2_w") == 0);
  CHECK(*m.value("system", "ac_consumption_l1_w") == doctest::Approx(7928 / 2.0));  // as it always served it
  CHECK(*m.value("vebus", "overload_l1") == 1);
  CHECK(*m.value("vebus", "overload_l2") == 0);
  for (double t = 0; t < 10; t += 2) m.advance(t, 2, nullptr);
  CHECK(m.trips == 1);
  CHECK(m.tripped_phase == 0);
}

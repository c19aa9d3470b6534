// The GX's generator readings (issue 59, part 4): /Ac/Genset/L1..L3/Power (823-825) and
// /Ac/ActiveIn/Source (826) decoded as attributes.csv says (docs/registers.md §1.4), and the
// running word mapped into the snapshot: 2 yes; 1, 3, 240 no; anything else not known.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "drivers/readings.hpp"
#include "drivers/site_mapping.hpp"
#include "drivers/victron_gx.hpp"

using namespace std::chrono_literals;

namespace {
const drivers::Register& system_reg(std::string_view field) {
  for (const auto& r : drivers::victron::system_table().registers) {
    if (r.field == field) return r;
  }
  FAIL("no register " << std::string(field));
  return drivers::victron::system_table().registers[0];
}
}  // namespace

TEST_CASE("the GX's generator registers: addresses, types, scales and sentinels as attributes.csv says") {
  // attributes.csv lines 341-344 (v1.0.101).
  CHECK(system_reg("genset_l1_w").address == 823);
  CHECK(system_reg("genset_l2_w").address == 824);
  CHECK(system_reg("genset_l3_w").address == 825);
  CHECK(system_reg("active_input").address == 826);
  for (const char* f : {"genset_l1_w", "genset_l2_w", "genset_l3_w", "active_input"}) {
    CAPTURE(f);
    CHECK(system_reg(f).type == drivers::RegType::s16);
    CHECK(system_reg(f).factor == 1);
  }
  const std::uint16_t w[] = {3100};
  CHECK(drivers::decode(system_reg("genset_l1_w"), w) == doctest::Approx(3100));
  // 826: 0 is "Not available" (a missing reading, never "no generator"); 2 the generator; a
  // value beyond 240 is dropped by its range.
  CHECK(system_reg("active_input").not_available_raw == 0);
  const std::uint16_t gen[] = {2}, beyond[] = {0xFFFF};
  CHECK(drivers::decode(system_reg("active_input"), gen) == 2);
  CHECK(drivers::check_plausible(system_reg("active_input"), drivers::decode(system_reg("active_input"), beyond)));
}

TEST_CASE("the GX offers its genset power and its running word where its system unit is read") {
  const std::vector<drivers::DeviceSettings> devices{drivers::defaults_of(drivers::victron::kind())};
  const auto m = drivers::mapping_for(devices);
  REQUIRE(m.generator_running.size() == 1);
  CHECK(m.generator_running[0].reading == "system.active_input");
  CHECK(m.generator_running[0].not_running == std::vector<int>{1, 3, 240});
  CHECK(drivers::offered(devices, drivers::Quantity::genset_l1_w) == std::vector<std::string>{"system.genset_l1_w"});
  auto off = devices;
  off[0].enabled = false;
  CHECK(drivers::mapping_for(off).generator_running.empty());
}

TEST_CASE("the running word into the snapshot: yes, no, not known; stale and odd values not known; yes wins") {
  drivers::ReadingStore s;
  const auto t0 = rules::SteadyTime{} + 1000h;
  drivers::SnapshotMapping m;
  m.generator_running = {{"system.active_input", {2}, {1, 3, 240}}};
  const auto word = [&](rules::SteadyTime now) { return drivers::build_snapshot(s, m, now, std::nullopt).generator_running; };

  CHECK_FALSE(word(t0));  // never read
  s.set("system.active_input", 2, t0);
  REQUIRE(word(t0));
  CHECK(word(t0)->value == 1);
  CHECK(word(t0)->as_of == t0);
  for (const double no : {1.0, 3.0, 240.0}) {
    s.set("system.active_input", no, t0);
    REQUIRE(word(t0));
    CHECK(word(t0)->value == 0);
  }
  for (const double odd : {0.0, 7.0, std::numeric_limits<double>::quiet_NaN()}) {
    s.set("system.active_input", odd, t0);
    CHECK_FALSE(word(t0));
  }
  s.set("system.active_input", 2, t0 - 60s);  // older than fresh_within (30 s)
  CHECK_FALSE(word(t0));

  // Two devices that disagree: on generator power.
  m.generator_running.push_back({"gx2_system.active_input", {2}, {1, 3, 240}});
  s.set("system.active_input", 240, t0);
  s.set("gx2_system.active_input", 2, t0);
  REQUIRE(word(t0));
  CHECK(word(t0)->value == 1);
}

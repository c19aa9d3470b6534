// The GX's VE.Bus inverter/charger as an AC source (issue 59): its output per phase and its own
// overload words decoded as attributes.csv says (docs/registers.md §1.10), sentinels dropped, and
// mapped into the snapshot: a sum missing a part is missing, the worst fresh word counts.
#include <doctest/doctest.h>

#include "drivers/readings.hpp"
#include "drivers/victron_gx.hpp"

using namespace std::chrono_literals;

namespace {
const drivers::Register& reg(std::string_view field) {
  for (const auto& r : drivers::victron::vebus_table().registers) {
    if (r.field == field) return r;
  }
  FAIL("no register " << std::string(field));
  return drivers::victron::vebus_table().registers[0];
}
}  // namespace

TEST_CASE("VE.Bus: output power in 10 W steps, signed; overload words 0-2; anything else is dropped") {
  const std::uint16_t w[] = {388};  // 3,880 W: /Ac/Out/L1/P, scale 0.1
  CHECK(drivers::decode(reg("ac_out_l1_w"), w) == doctest::Approx(3880));
  CHECK_FALSE(drivers::check_plausible(reg("ac_out_l1_w"), 3880));
  const std::uint16_t back[] = {0xFFF6};  // -10 raw: 100 W fed back through the output (AC-coupled PV)
  CHECK(drivers::decode(reg("ac_out_l2_w"), back) == doctest::Approx(-100));
  const std::uint16_t far[] = {0x7FFF};  // a clamped int16 (docs/registers.md §1.3): 327,670 W
  CHECK(drivers::check_plausible(reg("ac_out_l3_w"), drivers::decode(reg("ac_out_l3_w"), far)));
  for (const char* f : {"overload", "overload_l1", "overload_l2", "overload_l3"}) {
    CAPTURE(f);
    for (const std::uint16_t ok : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{2}}) {
      const std::uint16_t word[] = {ok};
      CHECK_FALSE(drivers::check_plausible(reg(f), drivers::decode(reg(f), word)));
    }
    for (const std::uint16_t bad : {std::uint16_t{3}, std::uint16_t{0xFFFF}}) {  // reserved, or not a level the map defines
      const std::uint16_t word[] = {bad};
      CHECK(drivers::check_plausible(reg(f), drivers::decode(reg(f), word)));
    }
  }
}

TEST_CASE("an AC source's readings into the snapshot: per-phase sums, the worst fresh word") {
  drivers::ReadingStore s;
  const auto t0 = rules::SteadyTime{} + 1000h;
  drivers::SnapshotMapping m;
  drivers::SnapshotMapping::AcSourceSpec spec;
  spec.load_w[0] = {"vebus.ac_out_l1_w"};
  spec.load_w[1] = {"a.l2_w", "b.l2_w"};  // two in parallel
  spec.overload = {"vebus.overload"};
  spec.overload_phase[0] = {"vebus.overload_l1", "other.overload_l1"};
  m.ac = {spec};
  s.set("vebus.ac_out_l1_w", 4400, t0);
  s.set("a.l2_w", 1000, t0);
  s.set("vebus.overload", 0, t0);
  s.set("vebus.overload_l1", 0, t0);

  auto snap = drivers::build_snapshot(s, m, t0, std::nullopt);
  REQUIRE(snap.ac.size() == 1);
  CHECK(snap.ac[0].phase[0].load_w->value == 4400);
  CHECK_FALSE(snap.ac[0].phase[1].load_w);  // a part missing: no load figure at all
  CHECK_FALSE(snap.ac[0].phase[2].load_w);  // nothing mapped
  CHECK(snap.ac[0].overload->value == 0);
  CHECK_FALSE(snap.ac[0].phase[0].overload);  // one word ok, the other never read: not known

  s.set("other.overload_l1", 1, t0);  // the other unit warns
  s.set("b.l2_w", 900, t0 - 5s);
  snap = drivers::build_snapshot(s, m, t0, std::nullopt);
  CHECK(snap.ac[0].phase[0].overload->value == 1);
  CHECK(snap.ac[0].phase[1].load_w->value == 1900);
  CHECK(snap.ac[0].phase[1].load_w->as_of == t0 - 5s);  // as old as its oldest part: the rules judge it

  s.set("other.overload_l1", 2, t0 - 60s);  // a stale alarm is not fresh evidence ...
  s.set("vebus.overload_l1", 0, t0);
  snap = drivers::build_snapshot(s, m, t0 + 1s, std::nullopt);
  CHECK_FALSE(snap.ac[0].phase[0].overload);  // ... and leaves the word not known, not "ok"
}

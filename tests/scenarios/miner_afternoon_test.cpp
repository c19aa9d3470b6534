// Issue 46's measure: each firmware's miner as the dump load on a full-battery afternoon with
// hidden surplus (tests/support/miner_afternoon.hpp: the simulated site through the whole daemon,
// on the stepped clock), following its power target in its own wire form. Each uses at least 90 %
// of the hidden surplus, writes at most 12 targets an hour where its firmware saves them, and the
// bank never pays more than the probe's limit (5 A) for more than a minute, a Braiins OS miner
// that ramps down as slowly as it ramps up (the field's peer) included.
#include <doctest/doctest.h>

#include "tests/support/miner_afternoon.hpp"

namespace {
void report(const std::string& name, const test::MinerAfternoonResult& r) {
  const auto& s = r.surplus;
  MESSAGE(name, ": used ", s.used_kwh, " of ", s.hidden_kwh, " kWh (", 100 * s.used_kwh / s.hidden_kwh, " %), ", s.writes / s.hours,
          " writes an hour, battery paid ", s.battery_ah, " Ah, longest spell beyond 5 A ", r.longest_paying_s, " s, ", s.starts,
          " start(s), ", r.sleeps, " sleep(s)");
}
}  // namespace

TEST_CASE("each firmware follows a full bank's hidden surplus with its power target, the bank never paying beyond the probe's limit for a minute") {
  for (const char* kind : {"luxos", "whatsminer", "whatsminer_v2"}) {
    CAPTURE(kind);
    const auto r = test::run_miner_afternoon({kind});
    report(kind, r);
    CHECK(r.surplus.used_kwh >= 0.9 * r.surplus.hidden_kwh);
    if (r.persists) CHECK(r.surplus.writes / r.surplus.hours <= 12);
    CHECK(r.longest_paying_s <= 60);
    CHECK(r.surplus.starts >= 1);
  }
}

TEST_CASE("a miner that ramps down as slowly as it ramps up: the target falls at once, sleep and the relay take over, the bank pays under a minute") {
  // Issue 46's field finding: a Braiins OS peer whose draw follows its target with a ramp let the
  // bank pay up to 14.6 A for 162 s in the cloud. Here it sheds 26 W/s, as the simulator's ramp up.
  const auto r = test::run_miner_afternoon({"braiins", 3100.0 / 120});
  report("braiins, ramping down", r);
  CHECK(r.longest_paying_s <= 60);
  CHECK(r.surplus.writes / r.surplus.hours <= 12);
  CHECK(r.surplus.used_kwh >= 0.85 * r.surplus.hidden_kwh);
}

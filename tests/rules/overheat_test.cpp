// A miner that reaches its temperature limit (the firmware's own "hot", or the owner's
// overheat_c) is stopped at once, with the reason, and kept off for the cooldown and until it
// reads cooler; without both a reading and a limit nothing changes.
#include "harness.hpp"

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

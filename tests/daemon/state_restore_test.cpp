// load_state rows and the rules' per-load state: what a restart keeps.
#include <doctest/doctest.h>

#include "daemon/store/load_state_rows.hpp"

using namespace std::chrono_literals;

namespace {
const rules::SteadyTime kNow = rules::SteadyTime{} + 1000h;
constexpr std::int64_t kWall = 1795300000;  // 2026-11-21
}  // namespace

TEST_CASE("a load on for 4 minutes with an override comes back the same after a restart") {
  rules::LoadState st;
  st.on = true;
  st.last_change = kNow - 4min;
  st.starts.record(kNow - 4min);
  st.starts.record(kNow - 20min);
  st.override_ = {rules::OverrideMode::on, kNow + 1h};
  const auto row = shackd::persist_load("miner:Primary S21+", st, nullptr, kNow, kWall, true);
  CHECK(row.commanded_on);
  CHECK(row.since == shackd::iso_utc(kWall - 240));
  CHECK(row.override_mode == "on");
  CHECK(row.override_until == shackd::iso_utc(kWall + 3600));
  CHECK(row.starts_this_hour == 2);

  // Restarted 30 s later, on a new monotonic clock.
  const rules::SteadyTime later = rules::SteadyTime{} + 5h;
  const auto back = shackd::restore_load(row, later, kWall + 30);
  CHECK(back.on);
  REQUIRE(back.last_change);
  CHECK(later - *back.last_change == 270s);  // min on-time keeps counting from the real start
  CHECK(back.starts.in_last_hour(later) == 2);
  CHECK(back.override_.mode == rules::OverrideMode::on);
  REQUIRE(back.override_.until);
  CHECK(*back.override_.until - later == 3570s);
}

TEST_CASE("an override that ran out while shackd was away is dropped") {
  shackd::LoadStateRow row;
  row.load_id = "fan:Heat Room";
  row.override_mode = "off";
  row.override_until = shackd::iso_utc(kWall - 60);
  const auto st = shackd::restore_load(row, kNow, kWall);
  CHECK(st.override_.mode == rules::OverrideMode::automatic);
}

TEST_CASE("a wall clock that jumped back counts stored times as now, never as the future") {
  shackd::LoadStateRow row;
  row.load_id = "miner:x";
  row.commanded_on = true;
  row.since = shackd::iso_utc(kWall + 3600);  // stored before the clock was corrected
  const auto st = shackd::restore_load(row, kNow, kWall);
  REQUIRE(st.last_change);
  CHECK(*st.last_change == kNow);
}

TEST_CASE("an unchanged load writes an identical row; a transition updates the counters") {
  rules::LoadState st;
  st.on = true;
  st.last_change = kNow - 10min;
  const auto first = shackd::persist_load("miner:x", st, nullptr, kNow, kWall, false);
  const auto again = shackd::persist_load("miner:x", st, &first, kNow + 2s, kWall + 3, false);
  CHECK(again == first);  // no write: the monotonic-to-wall conversion is not redone
  st.on = false;
  st.last_change = kNow + 1h;
  const auto off = shackd::persist_load("miner:x", st, &again, kNow + 1h, kWall + 3600, false);
  CHECK_FALSE(off.commanded_on);
  CHECK(off.last_stop == shackd::iso_utc(kWall + 3600));
  CHECK(off.on_seconds == 3600 + 600);
  CHECK(shackd::parse_iso_utc("2026-11-21T22:14:00Z") == 1795299240);
  CHECK_FALSE(shackd::parse_iso_utc("yesterday"));
}

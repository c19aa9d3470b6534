// A full day at the Solar Shack with the default profiles and their real timing, as a
// table-driven time series. 10 s cycles. A row's inputs are seen from the first cycle after its
// start up to and including the cycle at the next row's start, where its expectations are checked.
#include "harness.hpp"

using namespace std::chrono_literals;
using rules::ReasonCode;

namespace {

constexpr int at(int h, int m, int sec = 0) { return h * 3600 + m * 60 + sec; }

struct Row {
  int from_s;  // seconds after local midnight
  const char* what;
  double v, pv_w, load_w;
  bool primary_on;
  ReasonCode primary_reason;
  bool dump_on;
  ReasonCode dump_reason;
};

// load_w is the measured total: house plus whichever miners run (primary 3,878 W, dump 3,250 W).
const Row kDay[] = {
    {at(4, 0), "night, below the primary's start", 48.8, 0, 500, false, ReasonCode::below_start_voltage, false,
     ReasonCode::below_start_voltage},
    {at(6, 0), "dawn: start condition holds, dwell running", 50.1, 1500, 500, false, ReasonCode::start_delay_pending,
     false, ReasonCode::below_start_voltage},
    {at(6, 1), "dawn: the primary miner starts", 50.1, 1500, 500, true, ReasonCode::running, false,
     ReasonCode::below_start_voltage},
    {at(6, 3), "morning", 52.5, 6000, 4478, true, ReasonCode::running, false, ReasonCode::below_start_voltage},
    {at(10, 30), "54.5 V, 9 kW: PV must be steady for the sunny window", 54.5, 9000, 4478, true, ReasonCode::running,
     false, ReasonCode::not_sunny},
    {at(10, 40), "sunny, surplus 4,522 W: the dump load starts after its delay", 54.5, 9000, 4478, true,
     ReasonCode::running, true, ReasonCode::running},
    {at(10, 45), "midday, both running", 54.8, 9000, 7728, true, ReasonCode::running, true, ReasonCode::running},
    {at(13, 0), "a cloud: the dump load waits out its stop delay", 54.6, 4000, 7728, true, ReasonCode::running, true,
     ReasonCode::stop_delay_pending},
    {at(13, 3), "the cloud stays: the dump load stops", 54.6, 4000, 7728, true, ReasonCode::running, false,
     ReasonCode::insufficient_solar},
    {at(13, 5), "afternoon", 53.0, 2000, 4478, true, ReasonCode::running, false, ReasonCode::below_start_voltage},
    {at(16, 0), "after the dump load's window", 54.6, 2000, 4478, true, ReasonCode::running, false,
     ReasonCode::outside_schedule},
    {at(18, 0), "a sag below stop for 90 s", 46.8, 0, 5728, true, ReasonCode::stop_delay_pending, false,
     ReasonCode::below_start_voltage},
    {at(18, 1, 30), "recovered: the sag did not stop it", 48.0, 0, 5728, true, ReasonCode::running, false,
     ReasonCode::below_start_voltage},
    {at(19, 0), "evening, exactly at stop: still running", 47.0, 0, 5728, true, ReasonCode::running, false,
     ReasonCode::below_start_voltage},
    {at(19, 1), "below stop, waiting out the stop delay", 46.95, 0, 5728, true, ReasonCode::stop_delay_pending,
     false, ReasonCode::below_start_voltage},
    {at(19, 3), "evening: the primary stops", 46.95, 0, 5728, false, ReasonCode::below_stop_voltage, false,
     ReasonCode::below_start_voltage},
    {at(19, 3, 10), "stopped", 46.95, 0, 1850, false, ReasonCode::below_start_voltage, false,
     ReasonCode::below_start_voltage},
    {at(19, 5), "end", 46.9, 0, 1850, false, ReasonCode::below_start_voltage, false, ReasonCode::below_start_voltage},
};

}  // namespace

TEST_CASE("a full day: dawn start, midday dump load, cloud, sag, evening stop") {
  test::Site s;
  s.start_minute = 0;
  s.elapsed = std::chrono::seconds(kDay[0].from_s);
  s.zone_c[0] = 20;
  s.zone_c[1] = 20;
  int primary_starts = 0, dump_starts = 0;
  const std::size_t n = std::size(kDay);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const Row& row = kDay[i];
    CAPTURE(std::string(row.what));
    s.monitor_v = row.v;
    s.pv_w = row.pv_w;
    s.load_w = row.load_w;
    while (s.elapsed.count() < kDay[i + 1].from_s) {
      s.step(10s);
      primary_starts += s.primary().changed && s.primary().on;
      dump_starts += s.dump().changed && s.dump().on;
    }
    CHECK(s.primary().on == row.primary_on);
    CHECK(s.primary().reason.code == row.primary_reason);
    CHECK(s.dump().on == row.dump_on);
    CHECK(s.dump().reason.code == row.dump_reason);
  }
  CHECK(primary_starts == 1);
  CHECK(dump_starts == 1);
}

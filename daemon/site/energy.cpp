#include "daemon/site/energy.hpp"

#include <algorithm>
#include <utility>

namespace shackd {

namespace {
constexpr double kMaxMeteredW = 1e6;  // no load of an off-grid site draws a megawatt
}  // namespace

std::vector<Draw> site_flows(const rules::Snapshot& snap, std::optional<double> battery_v,
                             rules::Duration stale_after) {
  auto fresh = [&](const std::optional<rules::Reading>& r) -> std::optional<double> {
    if (!r || snap.now - r->as_of > stale_after) return std::nullopt;
    return r->value;
  };
  std::vector<Draw> flows{{kPvFlow, true, std::nullopt, 0}, {kBatteryInFlow, true, std::nullopt, 0},
                          {kBatteryOutFlow, true, std::nullopt, 0}};
  // Meter noise at night (a few W either way) is not production.
  if (const auto pv = fresh(snap.pv_w)) flows[0].metered_w = std::max(0.0, *pv);
  if (const auto a = fresh(snap.battery_a); a && battery_v) {
    const double w = *a * *battery_v;
    flows[1].metered_w = std::max(0.0, w);
    flows[2].metered_w = std::max(0.0, -w);
  }
  return flows;
}

void EnergyMeter::restore(const std::string& day, std::map<std::string, LoadEnergy> totals) {
  day_ = day;
  totals_ = std::move(totals);
}

std::optional<EnergyMeter::Finished> EnergyMeter::tick(const std::string& day, rules::SteadyTime now,
                                                       const std::vector<Draw>& draws) {
  if (last_ && now > *last_ && now - *last_ <= max_gap_) {
    const double s = rules::to_seconds(now - *last_);
    for (const Draw& d : drawing_) {
      if (!d.on) continue;
      LoadEnergy& e = totals_[d.load_id];
      e.on_s += s;
      // A meter's word that no load can draw (negative, NaN, a megawatt: a miner's API reported
      // -50 W, which made the day's energy negative and failed every store write after it, issue
      // 48) is no word: the rating counts instead.
      if (d.metered_w && *d.metered_w >= 0 && *d.metered_w < kMaxMeteredW) {
        e.wh += *d.metered_w * s / 3600.0;
        e.metered_s += s;
      } else if (d.rated_w > 0) {
        e.wh += d.rated_w * s / 3600.0;
      } else {
        e.unrated_s += s;
      }
    }
  }
  last_ = now;
  drawing_ = draws;
  std::optional<Finished> finished;
  if (day != day_) {
    // The interval just charged went to the day that ended: at most one cycle's worth.
    if (!day_.empty()) finished = Finished{day_, std::move(totals_)};
    day_ = day;
    totals_.clear();
  }
  for (const Draw& d : draws) totals_.try_emplace(d.load_id);
  return finished;
}

}  // namespace shackd

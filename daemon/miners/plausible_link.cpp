#include "daemon/miners/plausible_link.hpp"

#include "daemon/system/log.hpp"
#include "drivers/miners/plausible.hpp"

namespace shackd {

PlausibleLink::PlausibleLink(std::string load_id, const drivers::miners::MinerKind& kind, std::unique_ptr<MinerLink> inner,
                             std::function<std::optional<double>()> rated_w)
    : load_id_(std::move(load_id)), kind_(kind), inner_(std::move(inner)), rated_w_(std::move(rated_w)) {}

MinerReport PlausibleLink::take() {
  MinerReport r = inner_->take();
  if (!r.telemetry || !r.telemetry->answered) return r;
  const auto dropped = drivers::miners::drop_implausible(kind_, rated_w_ ? rated_w_() : std::nullopt, *r.telemetry);
  std::set<std::string> now;
  for (const auto& d : dropped) {
    now.insert(d.field);
    if (!told_.count(d.field)) {
      log::warn("miner {}: its API reports {} {}: taken as not available until it is in range", load_id_, d.field, d.words);
    }
  }
  for (const auto& f : told_) {
    if (!now.count(f)) log::info("miner {}: its API's {} is in range again", load_id_, f);
  }
  if (!dropped.empty()) ++dropped_;
  told_ = std::move(now);
  return r;
}

}  // namespace shackd

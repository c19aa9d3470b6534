#pragma once
// A miner's link whose telemetry is checked before the loop sees it (drivers/miners/plausible.hpp):
// a number out of its kind's and rating's range is not available, said once when it starts and
// once when it ends, however many polls it lasts. Wraps any link: the worker in production, an
// inline one in tests.
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "daemon/miners/miner_link.hpp"

namespace shackd {

class PlausibleLink final : public MinerLink {
 public:
  // `rated_w`: the load's rating now (its profile's power_w; a reload may change it), nullopt: none.
  PlausibleLink(std::string load_id, const drivers::miners::MinerKind& kind, std::unique_ptr<MinerLink> inner,
                std::function<std::optional<double>()> rated_w);
  void send(MinerOrder order) override { inner_->send(order); }
  MinerReport take() override;
  // Reads with a number dropped since the start (the tests, and anyone counting).
  long long dropped() const { return dropped_; }

 private:
  std::string load_id_;
  const drivers::miners::MinerKind& kind_;
  std::unique_ptr<MinerLink> inner_;
  std::function<std::optional<double>()> rated_w_;
  std::set<std::string> told_;  // fields out of range at the last read that answered
  long long dropped_ = 0;
};

}  // namespace shackd

#pragma once
// A miner's link run inline, for in-process tests (daemon/miners/miner_link.hpp): a command runs
// when sent, a read when taken, against the kind's own client over whatever exchange it is given
// (the simulator's model of its firmware, sim/miner_model.hpp). The MinerWorker's thread and its
// TCP are what it leaves out; tests/miners/tcp_exchange_test.cpp runs those.
#include <memory>
#include <utility>
#include <vector>

#include "daemon/miners/miner_link.hpp"

namespace test {

class InlineMiner final : public shackd::MinerLink {
 public:
  explicit InlineMiner(std::unique_ptr<drivers::miners::MinerApi> api) : api_(std::move(api)) {}
  void send(shackd::MinerOrder order) override { done_.push_back({order, shackd::run_order(*api_, order)}); }
  shackd::MinerReport take() override {
    shackd::MinerReport r;
    r.done = std::exchange(done_, {});
    r.telemetry = api_->read();
    return r;
  }

 private:
  std::unique_ptr<drivers::miners::MinerApi> api_;
  std::vector<shackd::MinerDone> done_;
};

}  // namespace test

#pragma once
// A miner's API as the loop uses it: commands are queued and telemetry taken without waiting, so
// a miner that hangs never holds a cycle. Production runs each on its own thread (MinerWorker);
// a test runs them inline against the simulator's miner (tests/support/).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "drivers/miners/miner_kind.hpp"

namespace shackd {

enum class MinerCommand { sleep, wake };
const char* command_name(MinerCommand c);

struct MinerReport {
  std::optional<drivers::miners::Telemetry> telemetry;  // a read finished since the last take
  std::vector<std::pair<MinerCommand, drivers::miners::CommandResult>> done;  // in order
};

class MinerLink {
 public:
  virtual ~MinerLink() = default;
  virtual void send(MinerCommand c) = 0;
  virtual MinerReport take() = 0;
};

// One thread per miner: it runs queued commands first, then reads (at once after a command, so a
// sleep's effect is seen without waiting for the next poll), else every `poll`.
class MinerWorker final : public MinerLink {
 public:
  MinerWorker(std::unique_ptr<drivers::miners::MinerApi> api, std::chrono::milliseconds poll);
  ~MinerWorker() override;
  void send(MinerCommand c) override;
  MinerReport take() override;

 private:
  void run();
  std::unique_ptr<drivers::miners::MinerApi> api_;
  std::chrono::milliseconds poll_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<MinerCommand> queue_;
  MinerReport ready_;
  bool stop_ = false;
  std::thread thread_;
};

// The production link for a configured miner: its kind's client over TCP, on a worker.
std::unique_ptr<MinerLink> make_miner_worker(const drivers::miners::MinerConfig& c);

}  // namespace shackd

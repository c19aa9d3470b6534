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
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "drivers/miners/miner_kind.hpp"
#include "drivers/miners/socket_io.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

enum class MinerCommand { sleep, wake, target };
const char* command_name(MinerCommand c);

struct MinerOrder {
  MinerCommand command = MinerCommand::sleep;
  double watts = 0;  // for `target`
};
struct MinerDone {
  MinerOrder order;
  drivers::miners::CommandResult result;
};
// One order against the API; its exceptions become a failed result.
drivers::miners::CommandResult run_order(drivers::miners::MinerApi& api, const MinerOrder& order);

struct MinerReport {
  std::optional<drivers::miners::Telemetry> telemetry;  // a read finished since the last take
  std::vector<MinerDone> done;                          // in order
};

class MinerLink {
 public:
  virtual ~MinerLink() = default;
  virtual void send(MinerOrder order) = 0;
  virtual MinerReport take() = 0;
};

// One thread per miner: it runs queued commands first, then reads (at once after a command, so a
// sleep's effect is seen without waiting for the next poll), else every `poll`.
class MinerWorker final : public MinerLink {
 public:
  // `cancel`, when given, is the one its API's exchange waits on: the destructor sets it, so a
  // miner that drips its reply (or never answers) cannot hold a stopping daemon for its time-out.
  MinerWorker(std::unique_ptr<drivers::miners::MinerApi> api, std::chrono::milliseconds poll,
              std::shared_ptr<drivers::miners::Cancel> cancel = nullptr, std::string thread_name = "miner");
  ~MinerWorker() override;
  void send(MinerOrder order) override;
  MinerReport take() override;

 private:
  void run(const std::stop_token& stop);
  std::unique_ptr<drivers::miners::MinerApi> api_;
  std::chrono::milliseconds poll_;
  std::shared_ptr<drivers::miners::Cancel> cancel_;
  std::mutex m_;
  std::condition_variable_any cv_;  // waits with the worker's stop token
  std::deque<MinerOrder> queue_;
  MinerReport ready_;
  drivers::thread::Worker thread_;  // last: started once the rest is made
};

// The production link for a configured miner: its kind's client over TCP, on a worker.
std::unique_ptr<MinerLink> make_miner_worker(const drivers::miners::MinerConfig& c);

}  // namespace shackd

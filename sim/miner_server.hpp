#pragma once
// A simulated miner's API on the network, for shackd-sim --miner: the model (miner_model.hpp)
// behind its kind's own transport: cgminer-style JSON ending in NUL (LuxOS, TCP 4028), a 4-byte
// length and JSON (Whatsminer API v3), a bare JSON object (Whatsminer API v2, TCP 4028), or HTTP
// (Braiins OS's REST API, over cpp-httplib's server).
// One request per connection, as the clients send them. The model is shared with the simulator's
// clock under `mutex`; an unpowered or dead API closes the connection without a word.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sim/miner_model.hpp"

namespace sim {

class MinerServer {
 public:
  MinerServer(std::string bind, int port, MinerModel& model, std::mutex& mutex);
  ~MinerServer();
  MinerServer(const MinerServer&) = delete;
  MinerServer& operator=(const MinerServer&) = delete;
  void start();  // throws std::runtime_error when it cannot listen
  int port() const { return port_; }
  long requests() const { return requests_.load(); }

 private:
  void serve_tcp(int fd);
  std::string answer(const std::string& request);  // throws while the API is down
  std::string bind_;
  int port_;
  MinerModel& model_;
  std::mutex& mutex_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<long> requests_{0};
  std::thread thread_;
  struct Http;
  std::unique_ptr<Http> http_;
};

}  // namespace sim

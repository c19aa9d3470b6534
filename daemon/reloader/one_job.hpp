#pragma once
// A side job that runs one piece of work at a time on a thread of its own (the reloader: issue
// 44, item 2). The loop starts it and looks, once a cycle, whether it has finished; it never
// waits for it. What the work makes it leaves where the loop takes it once finished() is true:
// that read and the work's last write are ordered by the flag's mutex.
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

namespace shackd {

class OneJob {
 public:
  OneJob() = default;
  ~OneJob() { join(); }
  OneJob(const OneJob&) = delete;
  OneJob& operator=(const OneJob&) = delete;

  // Starts `work`; false while the last one runs.
  bool start(std::function<void()> work) {
    if (running()) return false;
    join();
    {
      std::lock_guard l(m_);
      running_ = true;
    }
    thread_ = std::thread([this, w = std::move(work)] {
      w();
      std::lock_guard l(m_);
      running_ = false;
    });
    return true;
  }
  bool running() const {
    std::lock_guard l(m_);
    return running_;
  }
  // Waits, at most `bound`, for the work under way (tests; a stop): short sleeps, as the loop's
  // other bounded waits under libfaketime (drivers/mqtt/client.cpp).
  bool settle(std::chrono::milliseconds bound) const {
    const auto until = std::chrono::steady_clock::now() + bound;
    while (running()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  mutable std::mutex m_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace shackd

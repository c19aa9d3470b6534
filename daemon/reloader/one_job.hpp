#pragma once
// A side job that runs one piece of work at a time on a thread of its own (the reloader: issue
// 44, item 2). The loop starts it and looks, once a cycle, whether it has finished; it never
// waits for it. What the work makes it leaves where the loop takes it once finished() is true:
// that read and the work's last write are ordered by the flag's mutex.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "drivers/thread/worker.hpp"

namespace shackd {

class OneJob {
 public:
  // `name`: its thread's (`top -H`, docs/development.md "Threads").
  explicit OneJob(std::string name = "job") : name_(std::move(name)) {}
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
    // The work is one piece that ends by itself (no stop token): the join waits for it.
    // Ended however the work ends (the worker's backstop takes what it throws): a job that
    // threw must not look busy for ever.
    thread_ = drivers::thread::Worker(name_, [this, w = std::move(work)](const std::stop_token&) {
      struct Ended {
        OneJob& job;
        ~Ended() {
          std::lock_guard l(job.m_);
          job.running_ = false;
        }
      } ended{*this};
      w();
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
  void join() { thread_.join(); }

 private:
  std::string name_;
  mutable std::mutex m_;
  bool running_ = false;
  drivers::thread::Worker thread_;
};

// One job whose work makes a T, left for the loop: the opener's stored state, the reloader's
// outcome. The loop takes it once the job has finished (take), never waiting; the result's write
// and its read are ordered by the job's flag, as OneJob's.
template <typename T>
class JobWith {
 public:
  explicit JobWith(std::string name = "job") : job_(std::move(name)) {}
  // Starts `work`; false while one runs or its result waits to be taken.
  bool start(std::function<std::unique_ptr<T>()> work) {
    if (pending()) return false;
    return job_.start([this, w = std::move(work)] {
      auto r = w();
      result_ = std::move(r);  // read by the loop once the job says it has finished
    });
  }
  // A result made without the thread (`once`).
  void put(std::unique_ptr<T> r) { result_ = std::move(r); }
  bool running() const { return job_.running(); }
  bool pending() const { return job_.running() || result_ != nullptr; }
  bool settle(std::chrono::milliseconds bound) const { return job_.settle(bound); }
  void join() { job_.join(); }
  // The result once the job has finished; null while it runs, or once taken.
  std::unique_ptr<T> take() {
    if (job_.running() || !result_) return nullptr;
    job_.join();
    return std::move(result_);
  }

 private:
  std::unique_ptr<T> result_;
  OneJob job_;  // after what it writes: joined first
};

}  // namespace shackd

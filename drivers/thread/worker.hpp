#pragma once
// Every thread shackd starts (issue 57): named, so that `top -H` and `ps -L` tell them apart
// (docs/development.md, "What owns what", lists them with their owners and bounds), and stopped
// one way: a stop request its body sees through its std::stop_token (a wait on a
// std::condition_variable_any with the token wakes at once), then a join, bounded where the
// owner needs it (stop_within). Hand-rolled before: seven threads, each with its own stop flag,
// wake-up and join.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

namespace drivers::thread {

// The first thing every thread but the loop's does: names it (cut to the kernel's 15 characters)
// and blocks SIGTERM, SIGINT and SIGHUP in it, so that the kernel delivers them to the loop's
// thread, whose sleep they end at once (daemon/loop/daemon.cpp: run()). Unblocked, a signal could
// land on any thread: the loop slept on to its next tick, and a thread inside a select woke with
// it (under valgrind, its pselect failed EFAULT, which the MQTT link took for a lost connection).
void begin_side_thread(std::string_view name);
// A thread's name of the form "<what><id>" cut to fit: "poll victron", "miner primary_s2".
std::string short_name(std::string_view what, std::string_view id);

class Worker {
 public:
  using Body = std::function<void(std::stop_token)>;
  Worker() = default;
  // Starts `body` on a thread named `name`.
  Worker(std::string name, Body body);
  Worker(Worker&&) noexcept = default;
  Worker& operator=(Worker&&) noexcept;
  ~Worker() { stop(); }

  bool started() const { return thread_.joinable(); }
  // The body has returned (or none was started).
  bool finished() const { return !done_ || done_->load(); }
  // Asks the body to stop (its token); does not wait.
  void request_stop() { thread_.request_stop(); }
  std::stop_token token() const { return thread_.get_stop_token(); }
  // Waits for the body's end, without asking it to stop (a job that ends by itself).
  void join();
  // Asks it to stop and waits for its end.
  void stop();
  // Asks it to stop and waits at most `bound` (short sleeps: a clocked wait does not wake under
  // libfaketime, drivers/mqtt/client.cpp). A body that has not ended by then is left to end on
  // its own (detached), and false returned: such a body must own what it uses (shared state).
  bool stop_within(std::chrono::milliseconds bound);
  // Waits at most `bound` for the body's end without asking it to stop (a job that ends by
  // itself: a retired metrics server's shutdown); as stop_within, one not ended by then is left
  // behind (detached) and false returned. One that has ended is joined at once, with no wait.
  bool join_within(std::chrono::milliseconds bound);

 private:
  bool wait_done(std::chrono::milliseconds bound);
  std::shared_ptr<std::atomic<bool>> done_;
  std::jthread thread_;
};

}  // namespace drivers::thread

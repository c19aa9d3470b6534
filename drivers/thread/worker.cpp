#include "drivers/thread/worker.hpp"

#include <pthread.h>
#include <signal.h>

#include <utility>

namespace drivers::thread {

void begin_side_thread(std::string_view name) {
  char buf[16] = {};  // the kernel's TASK_COMM_LEN, its NUL included (pthread_setname_np(3))
  name.copy(buf, sizeof buf - 1);
  pthread_setname_np(pthread_self(), buf);
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string short_name(std::string_view what, std::string_view id) {
  std::string s(what);
  s += id;
  if (s.size() > 15) s.resize(15);
  return s;
}

Worker::Worker(std::string name, Body body) : done_(std::make_shared<std::atomic<bool>>(false)) {
  thread_ = std::jthread([name = std::move(name), body = std::move(body), done = done_](std::stop_token token) {
    begin_side_thread(name);
    // Nothing may escape a thread (an escape is std::terminate): the bodies catch what they
    // expect; this is the backstop.
    try {
      body(std::move(token));
    } catch (...) {
    }
    done->store(true);
  });
}

Worker& Worker::operator=(Worker&& other) noexcept {
  if (this != &other) {
    stop();
    done_ = std::move(other.done_);
    thread_ = std::move(other.thread_);
  }
  return *this;
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool Worker::stop_within(std::chrono::milliseconds bound) {
  if (!thread_.joinable()) return true;
  thread_.request_stop();
  return wait_done(bound);
}

bool Worker::join_within(std::chrono::milliseconds bound) {
  if (!thread_.joinable()) return true;
  return wait_done(bound);
}

bool Worker::wait_done(std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!done_->load()) {
    if (std::chrono::steady_clock::now() >= until) {
      thread_.detach();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
  return true;
}

}  // namespace drivers::thread

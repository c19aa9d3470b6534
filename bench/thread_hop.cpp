// What a hand-over to another thread costs in CPU on this machine (issue 57's CPU aim), against
// the same cycle on one thread, in one run (ratios, not figures). Each case runs `cycles` cycles
// paced like shackd's loop (a sleep to the next tick between them, so that the threads go idle as
// they do at a site), and prints the whole process's CPU per cycle (every thread, getrusage):
//   alone:      the cycle's thread wakes from its sleep and goes back to it (the floor's shape);
//   one hop:    it also hands a request to a worker thread and waits for the answer (a poller's
//               shape: a mutex and condition variable there, an eventfd back, as
//               daemon/loop/poller.cpp does);
//   two hops:   two such workers, asked together and waited for in turn (shackd's two pollers);
//   three hops: the two, and a third told after them and not waited for (the publisher's shape).
// The difference between the cases is what a hop costs: shackd's loop, two pollers and publisher
// make three hops a cycle that the floor (bench/core_floor.cpp) does not.
// Usage: thread_hop [CYCLES] [INTERVAL_US]   (default 2000 cycles, 2000 µs)
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

double process_cpu_us() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const long long us = (static_cast<long long>(u.ru_utime.tv_sec) + u.ru_stime.tv_sec) * 1000000LL + u.ru_utime.tv_usec +
                       u.ru_stime.tv_usec;
  return static_cast<double>(us);
}

// A worker that answers each request: woken by a condition variable, answering through an
// eventfd when `answer` (a poller), or not at all (the publisher, told and not waited for).
class Worker {
 public:
  explicit Worker(bool answer) : answer_(answer), done_fd_(eventfd(0, EFD_CLOEXEC)), thread_([this] { run(); }) {}
  ~Worker() {
    {
      std::lock_guard l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    close(done_fd_);
  }
  void ask() {
    {
      std::lock_guard l(m_);
      asked_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    pollfd p{done_fd_, POLLIN, 0};
    ::poll(&p, 1, 1000);
    std::uint64_t n = 0;
    [[maybe_unused]] const auto r = ::read(done_fd_, &n, sizeof n);
  }

 private:
  void run() {
    while (true) {
      std::unique_lock l(m_);
      cv_.wait(l, [&] { return asked_ || stop_; });
      if (stop_) return;
      asked_ = false;
      l.unlock();
      if (answer_) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto w = ::write(done_fd_, &one, sizeof one);
      }
    }
  }
  bool answer_;
  int done_fd_;
  std::mutex m_;
  std::condition_variable cv_;
  bool asked_ = false, stop_ = false;
  std::thread thread_;
};

double run_case(int hops, int cycles, std::chrono::microseconds interval) {
  std::vector<std::unique_ptr<Worker>> answering;
  for (int i = 0; i < std::min(hops, 2); ++i) answering.push_back(std::make_unique<Worker>(true));
  std::unique_ptr<Worker> told = hops >= 3 ? std::make_unique<Worker>(false) : nullptr;
  auto next = std::chrono::steady_clock::now();
  const double before = process_cpu_us();
  for (int c = 0; c < cycles; ++c) {
    for (auto& w : answering) w->ask();
    for (auto& w : answering) w->wait();
    if (told) told->ask();
    next += interval;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - std::chrono::steady_clock::now());
    if (left.count() > 0) {
      timespec ts{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  return (process_cpu_us() - before) / cycles;
}

}  // namespace

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 2000;
  const auto interval = std::chrono::microseconds(argc > 2 ? std::atoi(argv[2]) : 2000);
  if (cycles <= 0 || interval.count() <= 0) {
    fmt::print(stderr, "usage: thread_hop [CYCLES] [INTERVAL_US]\n");
    return 2;
  }
  // Twice in turn, so that the machine's drift falls on every case alike.
  double sum[4] = {0, 0, 0, 0};
  for (int round = 0; round < 2; ++round) {
    for (int hops = 0; hops <= 3; ++hops) sum[hops] += run_case(hops, cycles, interval) / 2;
  }
  fmt::print("thread_hop: {} cycles a case, {} µs apart, whole process CPU per cycle\n", cycles, interval.count());
  const char* names[4] = {"alone", "one hop (a poller)", "two hops (two pollers)", "three hops (+ the publisher)"};
  for (int hops = 0; hops <= 3; ++hops) {
    fmt::print("  {:<30} {:7.1f} µs   {:5.2f}x alone\n", names[hops], sum[hops], sum[hops] / sum[0]);
  }
  fmt::print("  a hop costs about {:.1f} µs of CPU a cycle\n", (sum[3] - sum[0]) / 3);
  return 0;
}

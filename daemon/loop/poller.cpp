#include "daemon/loop/poller.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>

#include "daemon/system/log.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

namespace {
int make_eventfd(const char* what) {
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), std::string("eventfd for a device's ") + what);
  return fd;
}
void signal_fd(int fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto w = ::write(fd, &one, sizeof one);  // EAGAIN (a full count) still wakes
}
// Sleeps on `fd` at most `timeout_ms` (-1: until written), then resets it.
void sleep_on(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) {
    std::uint64_t n = 0;
    [[maybe_unused]] const auto r = ::read(fd, &n, sizeof n);  // reset; EAGAIN is harmless
  }
}
// A planned poll starts its recent polls' length and half again before the loop's cycle, and
// 10 ms more for the worker's wake-up; never more than half the interval before it (a device
// slower than that the loop waits for, as it did before the tick).
constexpr auto kWakeRoom = std::chrono::milliseconds(10);
// The longest a worker sleeps before looking at its plan again.
constexpr auto kLongestSleep = std::chrono::seconds(60);
}  // namespace

PollWorker::PollWorker(drivers::DeviceConfig config)
    : name_(config.name),
      units_(config.units),
      device_(std::move(config)),
      done_fd_(make_eventfd("poll worker (done)")),
      wake_fd_(make_eventfd("poll worker (wake)")),
      thread_(drivers::thread::short_name("poll ", name_), [this](const std::stop_token& stop) { run(stop); }) {}

PollWorker::~PollWorker() {
  thread_.stop();  // its sleep wakes on wake_fd_; a poll under way ends by its timeouts first
  close(done_fd_);
  close(wake_fd_);
}

void PollWorker::wake() { signal_fd(wake_fd_); }

std::optional<rules::SteadyTime> PollWorker::planned_poll() const {
  if (!next_cycle_) return std::nullopt;
  const auto lead = std::min<std::chrono::nanoseconds>(recent_poll_ + recent_poll_ / 2 + kWakeRoom, interval_ / 2);
  return *next_cycle_ - lead;
}

void PollWorker::request() {
  {
    std::lock_guard l(m_);
    if (busy_ || requested_) return;  // under way (planned or asked for): wait() takes it when done
    // A planned poll done for this cycle is taken as it is. One older than half an interval (the
    // loop was late) or any left from an earlier cycle with no plan is not this cycle's.
    if (done_ && std::chrono::steady_clock::now() - finished_at_ <= interval_ / 2) return;
    requested_ = true;
    done_ = false;
  }
  wake();
}

void PollWorker::plan(rules::SteadyTime next_cycle, std::chrono::milliseconds interval) {
  {
    std::lock_guard l(m_);
    // In a steady loop the worker has planned this itself (after its last poll): nothing to do,
    // and nobody woken.
    if (next_cycle_ == next_cycle && interval_ == interval) return;
    next_cycle_ = next_cycle;
    interval_ = std::max<std::chrono::nanoseconds>(interval, std::chrono::milliseconds(1));
    if (busy_) return;  // it looks at the plan when its poll is done
  }
  wake();
}

std::optional<drivers::PollResult> PollWorker::wait(rules::SteadyTime deadline) {
  // The worker writes done_fd_ when a poll is done while the loop waits here, so the loop sleeps
  // in poll(2) until then: no CPU while a slow device (RS485 behind a gateway, 80 ms a request)
  // answers. Not a timed condition-variable wait: glibc's pthread_cond_clockwait is not
  // intercepted by libfaketime, so under a faked clock it would not wake at the deadline.
  // poll(2)'s timeout is bounded to 50 ms slices and the deadline re-read from the clock after
  // each, which a faked clock moves.
  while (true) {
    {
      std::lock_guard l(m_);
      if (done_) {
        done_ = waiting_ = false;
        return std::move(result_);
      }
      if (thread_.token().stop_requested()) {
        waiting_ = false;
        return std::nullopt;
      }
      waiting_ = true;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      std::lock_guard l(m_);
      waiting_ = false;
      return std::nullopt;
    }
    const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    sleep_on(done_fd_, static_cast<int>(std::min<long long>(left_ms, 50)));
  }
}

drivers::DeviceHealth PollWorker::health() {
  std::lock_guard l(m_);
  return health_;
}

void PollWorker::swap(Swap s) {
  std::lock_guard l(m_);
  swaps_.push_back(s);
}

std::vector<PollWorker::SwapDone> PollWorker::take_swaps() {
  std::lock_guard l(m_);
  std::vector<SwapDone> out;
  out.swap(swaps_done_);
  return out;
}

void PollWorker::run(const std::stop_token& stop) {
  // The stop wakes the sleep below (an eventfd keeps its count: a stop between the sleep's test
  // and its poll(2) is not lost).
  const std::stop_callback on_stop(stop, [this] { wake(); });
  while (!stop.stop_requested()) {
    std::vector<Swap> swaps;
    int sleep_ms = -1;  // until woken: with no plan it polls on request only
    bool go = false;
    {
      std::lock_guard l(m_);
      const auto now = std::chrono::steady_clock::now();
      const auto at = planned_poll();
      go = requested_ || (at && *at <= now);
      if (go) {
        requested_ = false;
        busy_ = true;
        swaps.swap(swaps_);
      } else if (at) {
        const auto left = std::min<std::chrono::nanoseconds>(*at - now, kLongestSleep);
        sleep_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
      }
    }
    if (!go) {
      sleep_on(wake_fd_, sleep_ms);
      continue;
    }
    // Nothing may escape this thread (an escape is std::terminate): a throw becomes a failed
    // poll with its reason, and the loop decides without this device's readings.
    const auto began = std::chrono::steady_clock::now();
    drivers::PollResult r;
    try {
      for (const Swap& s : swaps) {
        auto result = device_.swap_register(s.unit, s.address, s.value);
        std::lock_guard l(m_);
        swaps_done_.push_back({s, std::move(result)});
      }
      r = device_.poll();
    } catch (const std::exception& e) {
      r = drivers::PollResult{};
      r.errors.push_back(name_ + ": poll failed: " + e.what());
    } catch (...) {
      r = drivers::PollResult{};
      r.errors.push_back(name_ + ": poll failed");
    }
    bool tell = false;
    {
      std::lock_guard l(m_);
      const auto now = std::chrono::steady_clock::now();
      recent_poll_ = std::max<std::chrono::nanoseconds>(now - began, recent_poll_ - recent_poll_ / 8);
      result_ = std::move(r);
      health_ = device_.health();
      finished_at_ = now;
      busy_ = false;
      done_ = true;
      tell = waiting_;
      // The next planned poll is the first whose time is still ahead: the next cycle's in a
      // steady loop (so that the loop's plan() finds it planned), later ones after a stall.
      if (const auto at = planned_poll(); at && *at <= now) {
        *next_cycle_ += ((now - *at) / interval_ + 1) * interval_;
      }
    }
    if (tell) signal_fd(done_fd_);  // wakes wait()
  }
}

namespace {
std::vector<std::string> added(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  std::vector<std::string> out;
  for (const auto& x : after) {
    if (std::find(before.begin(), before.end(), x) == before.end()) out.push_back(x);
  }
  return out;
}
}  // namespace

void log_map_changes(const std::string& device, const drivers::DeviceHealth& before, const drivers::DeviceHealth& after,
                     std::set<std::string>& told) {
  for (const auto& r : added(before.refused, after.refused)) {
    log::info("{}: registers {} are not served by this device's firmware (exception 0x02): those readings are "
              "missing, the rest is read around them", device, r);
  }
  // One line for all that went (a battery monitor without a BMS has five such values at every
  // start: one line, not five), and one for all that came back.
  if (const auto gone = added(before.not_available, after.not_available); !gone.empty()) {
    const bool news = std::any_of(gone.begin(), gone.end(), [&](const std::string& n) { return !told.count(n); });
    told.insert(gone.begin(), gone.end());
    log::write(news ? log::Level::info : log::Level::debug,
               fmt::format("{}: not available from this device (no BMS, or no sensor fitted?): {}; missing, the next "
                           "source decides", device, fmt::join(gone, ", ")));
  }
  if (const auto back = added(after.not_available, before.not_available); !back.empty()) {
    bool news = false;
    for (const auto& n : back) news |= told.insert("back:" + n).second;
    log::write(news ? log::Level::info : log::Level::debug,
               fmt::format("{}: available again: {}", device, fmt::join(back, ", ")));
  }
}

}  // namespace shackd

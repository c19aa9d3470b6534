#include "daemon/loop/poller.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "daemon/system/log.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

namespace {
int make_eventfd() {
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd for a device's poll worker");
  return fd;
}
}  // namespace

PollWorker::PollWorker(drivers::DeviceConfig config)
    : name_(config.name),
      units_(config.units),
      device_(std::move(config)),
      done_fd_(make_eventfd()),
      thread_(drivers::thread::short_name("poll ", name_), [this](const std::stop_token& stop) { run(stop); }) {}

PollWorker::~PollWorker() {
  thread_.stop();  // its wait wakes on the request; a poll under way ends by its timeouts first
  close(done_fd_);
}

void PollWorker::request() {
  {
    std::lock_guard l(m_);
    if (requested_) return;  // still busy with the last one: it will report when done
    requested_ = true;
    done_ = false;
  }
  cv_.notify_all();
}

std::optional<drivers::PollResult> PollWorker::wait(rules::SteadyTime deadline) {
  // The worker writes done_fd_ when a poll is done, so the loop sleeps in poll(2) until then: no
  // CPU while a slow device (RS485 behind a gateway, 80 ms a request) answers. Not a timed
  // condition-variable wait: glibc's pthread_cond_clockwait is not intercepted by libfaketime,
  // so under a faked clock it would not wake at the deadline. poll(2)'s timeout is bounded to
  // 50 ms slices and the deadline re-read from the clock after each, which a faked clock moves.
  while (true) {
    {
      std::lock_guard l(m_);
      if (done_) {
        done_ = false;
        return std::move(result_);
      }
      if (thread_.token().stop_requested()) return std::nullopt;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
    const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd p{done_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left_ms, 50))) > 0) {
      std::uint64_t n = 0;
      [[maybe_unused]] const auto r = ::read(done_fd_, &n, sizeof n);  // reset; EAGAIN is harmless
    }
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
  // The stop wakes the wait below; under the lock, so that it cannot fall between the wait's
  // test and its sleep.
  const std::stop_callback wake(stop, [this] {
    std::lock_guard l(m_);
    cv_.notify_all();
  });
  while (true) {
    std::vector<Swap> swaps;
    {
      std::unique_lock l(m_);
      cv_.wait(l, [&] { return requested_ || stop.stop_requested(); });
      if (!requested_) return;  // asked to stop
      swaps.swap(swaps_);
    }
    // Nothing may escape this thread (an escape is std::terminate): a throw becomes a failed
    // poll with its reason, and the loop decides without this device's readings.
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
    {
      std::lock_guard l(m_);
      result_ = std::move(r);
      health_ = device_.health();
      requested_ = false;
      done_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(done_fd_, &one, sizeof one);  // wakes wait()
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

#include "daemon/loop/poller.hpp"

#include <algorithm>

#include "daemon/system/log.hpp"

namespace shackd {

PollWorker::PollWorker(drivers::DeviceConfig config)
    : name_(config.name), units_(config.units), device_(std::move(config)), thread_([this] { run(); }) {}

PollWorker::~PollWorker() {
  {
    std::lock_guard l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
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

std::optional<drivers::PollResult> PollWorker::wait(std::chrono::steady_clock::time_point deadline) {
  // Short sleeps rather than a timed condition-variable wait, which never wakes under a faked
  // clock (see drivers/mqtt/client.cpp). A poll takes about a millisecond on a LAN.
  std::unique_lock l(m_);
  while (!done_ && !stop_) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    l.unlock();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    l.lock();
  }
  if (!done_) return std::nullopt;
  done_ = false;
  return std::move(result_);
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

void PollWorker::run() {
  while (true) {
    std::vector<Swap> swaps;
    {
      std::unique_lock l(m_);
      cv_.wait(l, [&] { return requested_ || stop_; });
      if (stop_) return;
      swaps.swap(swaps_);
    }
    for (const Swap& s : swaps) {
      auto result = device_.swap_register(s.unit, s.address, s.value);
      std::lock_guard l(m_);
      swaps_done_.push_back({s, std::move(result)});
    }
    drivers::PollResult r = device_.poll();
    {
      std::lock_guard l(m_);
      result_ = std::move(r);
      health_ = device_.health();
      requested_ = false;
      done_ = true;
    }
    cv_.notify_all();
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

void log_map_changes(const std::string& device, const drivers::DeviceHealth& before, const drivers::DeviceHealth& after) {
  for (const auto& r : added(before.refused, after.refused)) {
    log::info("{}: registers {} are not served by this device's firmware (exception 0x02): those readings are "
              "missing, the rest is read around them", device, r);
  }
  for (const auto& n : added(before.not_available, after.not_available)) {
    log::info("{}: {} reports \"not available\" (no sensor fitted?): missing, the next source decides", device, n);
  }
  for (const auto& n : added(after.not_available, before.not_available)) {
    log::info("{}: {} is available again", device, n);
  }
}

}  // namespace shackd

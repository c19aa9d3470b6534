#pragma once
// The loop's seams as a test drives them (daemon/loop/seams.hpp): a stepped clock, and a device
// whose readings the test sets (or that stops answering) standing in for a poller.
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/loop/seams.hpp"

namespace test {

using namespace std::chrono_literals;

class StepClock final : public shackd::LoopClock {
 public:
  rules::SteadyTime steady() const override { return t_; }
  std::int64_t wall_ms() const override { return wall_ms_; }
  void step(std::chrono::milliseconds d) {
    t_ += d;
    wall_ms_ += d.count();
  }
  void set_wall_ms(std::int64_t unix_ms) { wall_ms_ = unix_ms; }  // where a scenario's day begins

 private:
  rules::SteadyTime t_ = rules::SteadyTime{} + 1000h;
  std::int64_t wall_ms_ = 1795435200000;  // 2026-11-23 06:00 UTC: a trusted date
};

// The GX as the loop sees it: readings as the test sets them, or no answer; register swaps
// done at the next poll, as the PollWorker does, with results the test scripts.
class ScriptedDevice final : public shackd::PolledDevice {
 public:
  ScriptedDevice(drivers::DeviceConfig c, const StepClock& clock) : config_(std::move(c)), clock_(clock) {}
  const std::string& name() const override { return config_.name; }
  const std::vector<drivers::UnitConfig>& units() const override { return config_.units; }
  void request() override {
    for (const auto& s : pending_) {
      drivers::ModbusDevice::WriteResult r{50, ""};
      if (!write_results.empty()) {
        r = write_results.front();
        write_results.pop_front();
      }
      done_.push_back({s, r});
      writes.push_back(s);
    }
    pending_.clear();
  }
  std::optional<drivers::PollResult> wait(rules::SteadyTime) override {
    drivers::PollResult r;
    ++r.requests;
    if (!answering) {
      ++health_.consecutive_failures;
      health_.last_error = "timed out";
      r.errors.push_back(config_.name + ": timed out");
      return r;
    }
    for (const auto& [name, v] : values) r.readings.push_back({name, v, clock_.steady()});
    health_.consecutive_failures = 0;
    health_.connected = true;
    health_.last_success = clock_.steady();
    return r;
  }
  drivers::DeviceHealth health() override {
    drivers::DeviceHealth h = health_;
    h.identity_alarms = identity_alarms;
    return h;
  }
  void swap(shackd::RegisterSwap s) override { pending_.push_back(s); }
  std::vector<shackd::RegisterSwapDone> take_swaps() override { return std::exchange(done_, {}); }

  std::map<std::string, double> values;
  bool answering = true;
  std::vector<drivers::DeviceHealth::IdentityAlarm> identity_alarms;  // what its health says of its units' identity
  std::deque<drivers::ModbusDevice::WriteResult> write_results;  // next swaps' outcomes
  std::vector<shackd::RegisterSwap> writes;                       // every swap done

 private:
  drivers::DeviceConfig config_;
  const StepClock& clock_;
  drivers::DeviceHealth health_;
  std::vector<shackd::RegisterSwap> pending_;
  std::vector<shackd::RegisterSwapDone> done_;
};

}  // namespace test

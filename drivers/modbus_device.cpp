#include "drivers/modbus_device.hpp"

#include <algorithm>
#include <thread>

namespace drivers {

namespace {
constexpr std::uint16_t kMaxRead = 125;
}

ModbusDevice::ModbusDevice(DeviceConfig config, Clock clock)
    : config_(std::move(config)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      link_(config_.transport, config_.timeout),
      backoff_(config_.backoff_min) {
  for (const auto& u : config_.units) {
    const int max_block = std::min<int>({u.table->max_block, config_.max_block.value_or(kMaxRead), kMaxRead});
    for (const Block& b : plan_blocks(u.table->registers, u.table->max_gap, max_block)) plan_.push_back({u.unit, b});
  }
}

void ModbusDevice::failed(SteadyTime now, const std::string& error) {
  health_.last_error = error;
  health_.connected = false;
  health_.next_attempt = now + backoff_;
  backoff_ = std::min(backoff_ * 2, config_.backoff_max);
}

bool ModbusDevice::ensure_connected(SteadyTime now, PollResult& out) {
  if (link_.connected()) return true;
  if (health_.next_attempt && now < *health_.next_attempt) {
    out.errors.push_back(config_.name + ": backing off after: " + health_.last_error);
    return false;
  }
  std::string error;
  ++health_.reconnects;
  if (!link_.connect(error)) {
    failed(now, error);
    out.errors.push_back(config_.name + ": " + error);
    return false;
  }
  health_.connected = true;
  health_.next_attempt.reset();
  return true;
}

void ModbusDevice::pace() {
  // Gateways that serialise onto RS485 need a gap between requests (registers.md §3.7).
  if (config_.pacing.count() > 0 && last_request_) {
    const auto ready = *last_request_ + config_.pacing;
    const auto now = clock_();
    if (now < ready) std::this_thread::sleep_for(ready - now);
  }
}

ModbusDevice::WriteResult ModbusDevice::swap_register(int unit, std::uint16_t address, std::int16_t value) {
  WriteResult out;
  PollResult ignored;
  if (!ensure_connected(clock_(), ignored)) {
    out.error = health_.last_error;
    return out;
  }
  std::uint16_t old = 0;
  pace();
  if (const ReadResult r = link_.read(unit, address, 1, &old); r.status != ReadStatus::ok) {
    out.error = r.error;
    return out;
  }
  pace();
  const ReadResult w = link_.write(unit, address, static_cast<std::uint16_t>(value));
  last_request_ = clock_();
  if (w.status != ReadStatus::ok) {
    out.error = w.error;
    return out;
  }
  out.previous = static_cast<std::int16_t>(old);
  return out;
}

PollResult ModbusDevice::poll() {
  PollResult out;
  const SteadyTime started = clock_();
  if (!ensure_connected(started, out)) {
    ++health_.consecutive_failures;
    return out;
  }

  std::vector<std::uint16_t> words(kMaxRead);
  bool any_ok = false;
  bool retried = false;
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const PlannedRead& p = plan_[i];
    const UnitConfig& unit = *std::find_if(config_.units.begin(), config_.units.end(),
                                           [&](const UnitConfig& u) { return u.unit == p.unit; });
    pace();
    ++out.requests;
    ++health_.requests;
    const ReadResult r = link_.read(p.unit, p.block.start, p.block.count, words.data());
    last_request_ = clock_();
    if (r.status == ReadStatus::exception) {
      // The device answered: the connection is fine, this block's readings are missing
      // (0x0A: the service is absent at that unit; registers.md §1.3). Never read as 0.
      ++health_.failed_requests;
      out.errors.push_back(config_.name + " " + unit.prefix + ": " + r.error);
      continue;
    }
    if (r.status != ReadStatus::ok) {
      ++health_.failed_requests;
      // A gateway that closed an idle connection fails the first request after the idle
      // period; that is expected, so reconnect and retry once at once (protocols.md §4.3).
      if (r.status == ReadStatus::link_error && !retried) {
        retried = true;
        std::string error;
        ++health_.reconnects;
        if (link_.connect(error)) {
          --i;
          continue;
        }
      }
      // A timeout or a dead link: skip the rest of this poll, so a dead device costs one
      // timeout, and back off before the next attempt.
      failed(last_request_.value_or(started), config_.name + ": " + r.error);
      out.errors.push_back(health_.last_error);
      break;
    }
    any_ok = true;
    const SteadyTime as_of = *last_request_;
    std::vector<Reading> block_readings;
    bool status_bad = false;
    std::string status_why;
    for (const Register& reg : unit.table->registers) {
      if (reg.address < p.block.start || reg.address + word_count(reg.type) > p.block.start + p.block.count) continue;
      const std::span<const std::uint16_t> w(words.data() + (reg.address - p.block.start),
                                             static_cast<std::size_t>(word_count(reg.type)));
      const double value = decode(reg, w);
      const std::string name = unit.prefix + "." + std::string(reg.field);
      if (auto why = check_plausible(reg, value)) {
        out.invalid.push_back({name, *why});
        continue;
      }
      // A temperature service reports its sensor's state (3305): 0 OK, else open, short ...
      if (reg.field == "status" && unit.table->service == "temperature" && value != 0) {
        status_bad = true;
        status_why = "sensor status " + std::to_string(static_cast<int>(value)) + " (0 = OK)";
      }
      block_readings.push_back({name, value, as_of});
    }
    for (auto& reading : block_readings) {
      if (status_bad && reading.name.ends_with(".temp_c")) {
        out.invalid.push_back({reading.name, status_why});
      } else {
        out.readings.push_back(std::move(reading));
      }
    }
  }

  if (any_ok) {
    health_.last_success = last_request_;
    health_.consecutive_failures = 0;
    backoff_ = config_.backoff_min;
    health_.connected = link_.connected();
    if (out.errors.empty()) health_.last_error.clear();
    else health_.last_error = out.errors.back();
  } else {
    ++health_.consecutive_failures;
    if (!out.errors.empty()) health_.last_error = out.errors.back();
  }
  return out;
}

}  // namespace drivers

// The daemon's devices: the pollers from the device registry, the devices' own alarms, and the
// charge limits a charge block holds at 0 A.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/devices/registry.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

std::vector<std::unique_ptr<PolledDevice>> Daemon::make_workers(const Config& config) {
  std::vector<std::unique_ptr<PolledDevice>> out;
  for (auto& d : devices::modbus_devices(config)) {
    out.push_back(seams_.make_device ? seams_.make_device(std::move(d)) : std::make_unique<PollWorker>(std::move(d)));
  }
  return out;
}

void Daemon::start_devices() {
  workers_.clear();
  workers_ = make_workers(config_);
  longest_timeout_ = devices::longest_timeout(config_);
  build_charge_limits();
  start_miners();
}

// The devices' own alarms: an event when one appears or clears (a BMS's "no charging" is news,
// not shackd's decision: it already stops the chargers).
void Daemon::watch_device_alarms(rules::SteadyTime now, std::int64_t wall) {
  drivers::DeviceStatus status;
  for (const auto& w : workers_) {
    drivers::add_device_status(status, w->name(), w->units(), readings_, now, mapping_.fresh_within);
    drivers::add_identity_alarms(status, w->name(), health_[w->name()]);  // issue 49
  }
  add_miner_status(status, now);
  for (const auto& change : device_alarms_.update(status)) {
    const std::string text = describe(change);
    log::write(change.raised && !change.alarm.warning ? log::Level::warn : log::Level::info, "device alarm: " + text);
    event(change.raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, text, wall);
  }
}

// safety.charge_block_action (daemon/loop/charge_block.hpp), built with the devices.
void Daemon::build_charge_limits() {
  charge_block_.clear();
  if (config_.dry_run || options_.once || !db_) return;
  std::map<std::string, ChargeLimitRow> rows;
  try {
    rows = load_charge_limits(*db_);
  } catch (const db::Error& e) {
    log::warn("charge limits: cannot read their state, assuming none is held at 0 A: {}", e.what());
  }
  const auto writer = [&](const std::string& name) -> RegisterSwapper* {
    for (auto& w : workers_) {
      if (w->name() == name) return w.get();
    }
    return nullptr;
  };
  charge_block_.build(devices::charge_limits(config_), rows, writer, [this](const std::string& name, const ChargeLimitRow& r) {
    try {
      save_charge_limit(*db_, name, r, clock_.wall_s());
    } catch (const db::Error& e) {
      log::warn("charge limit {}: cannot record its state ({}); a restart now would not know to put it back", name,
                e.what());
    }
  });
  for (const auto& line : charge_block_.resumed()) log::info("{}", line);
  for (const auto& line : charge_block_.orphaned()) log::warn("{}", line);
}

void Daemon::charge_block_actuate(std::int64_t wall) {
  for (const auto& [label, n] : charge_block_.step(charge_blocked_)) {
    if (n.failure) log::warn("{}: the write failed, retrying each cycle: {}", label, n.text);
    else log::write(charge_blocked_ ? log::Level::warn : log::Level::info, fmt::format("{}: {}", label, n.text));
    event(n.failure || charge_blocked_ ? "alarm" : "alarm_end", "",
          n.failure ? rules::Reason{rules::ReasonCode::none} : decision_.charge_reason, n.text, wall);
  }
}

}  // namespace shackd

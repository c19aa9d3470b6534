// The daemon's devices: the pollers from the device registry, the devices' own alarms, and the
// charge limits a charge block holds at 0 A.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/devices/registry.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

std::vector<std::unique_ptr<PolledDevice>> Daemon::make_workers(const Config& config) const {
  std::vector<std::unique_ptr<PolledDevice>> out;
  for (auto& d : devices::modbus_devices(config)) {
    out.push_back(seams_.make_device ? seams_.make_device(std::move(d)) : std::make_unique<PollWorker>(std::move(d)));
  }
  return out;
}

void Daemon::start_devices() {
  core_.devices().set({}, std::chrono::milliseconds(0));
  core_.devices().set(make_workers(config_), devices::longest_timeout(config_));
  charge_block_.clear();  // built when the stored state is taken: its rows are the database's
  // A miner's API only where its relay is commanded (not `once`, not a dry run).
  if (options_.once || config_.dry_run) miners_.clear();
  else miners_.start(config_.miners, seams_.make_miner, [this](const std::string& id) { return miner_rating_w(core_.site().profiles, id); });
}

// safety.charge_block_action (daemon/loop/charge_block.hpp): built when the stored state is taken
// (its rows read by the opener) and by a reload that changes the devices or the action.
void Daemon::build_charge_limits(std::map<std::string, ChargeLimitRow> rows) {
  charge_block_.clear();
  if (config_.dry_run || options_.once) return;
  const auto writer = [&](const std::string& name) -> RegisterSwapper* {
    for (auto& w : core_.devices().devices()) {
      if (w->name() == name) return w.get();
    }
    return nullptr;
  };
  // Each row as it changes, handed to the recorder at once (a block begins or ends a few times a
  // winter); never written from the cycle.
  charge_block_.build(devices::charge_limits(config_), rows, writer, [this](const std::string& name, const ChargeLimitRow& r) {
    Records rec;
    rec.wall_s = clock_.wall_s();
    rec.charge_limits[name] = r;
    if (auto* recorder = storage_.recorder()) recorder->post(std::move(rec));
  });
  for (const auto& line : charge_block_.resumed()) log::info("{}", line);
  for (const auto& line : charge_block_.orphaned()) log::warn("{}", line);
}

// What the charge limits said when apply() stepped them: told after the ping.
void Daemon::tell_charge_block(std::int64_t wall) {
  for (const auto& [label, n] : charge_block_.take_notes()) {
    if (n.failure) log::warn("{}: the write failed, retrying each cycle: {}", label, n.text);
    else log::write(core_.decision().block_charging ? log::Level::warn : log::Level::info, fmt::format("{}: {}", label, n.text));
    event(n.failure || core_.decision().block_charging ? "alarm" : "alarm_end", "",
          n.failure ? rules::Reason{rules::ReasonCode::none} : core_.decision().charge_reason, n.text, wall);
  }
}

}  // namespace shackd

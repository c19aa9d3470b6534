// The miners' own APIs (daemon/miners/): a worker per configured miner, and the soft stop
// between the rules' decision and the relay.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "daemon/loop/daemon.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

namespace {
// Stops that keep the relay fast (the API gets one cycle): the battery's and the inputs' safety.
bool urgent(rules::ReasonCode c) {
  using rules::ReasonCode;
  return c == ReasonCode::shutdown || c == ReasonCode::critical_low || c == ReasonCode::emergency_stop ||
         c == ReasonCode::restart_lockout || c == ReasonCode::stale_input;
}
}  // namespace

void Daemon::start_miners() {
  miners_.clear();
  if (options_.once || config_.dry_run) return;
  for (const auto& c : config_.miners) {
    if (!c.kind) continue;
    MinerSide side{c, seams_.make_miner ? seams_.make_miner(c) : make_miner_worker(c),
                   SoftStop(c.idle_w, std::chrono::duration_cast<rules::Duration>(c.stop_timeout)), std::nullopt, {}, {}, {}};
    log::info("miner {}: {} at {}:{}; stops through its API first (idle below {:.0f} W, at most {} s), relay after",
              c.load_id, c.kind->label, c.host, c.port, c.idle_w, c.stop_timeout.count());
    miners_.emplace(c.load_id, std::move(side));
  }
}

bool Daemon::miner_relay(const LoadRef& l, const rules::LoadDecision& d, rules::SteadyTime now) {
  const auto it = miners_.find(l.id);
  if (it == miners_.end()) return d.on;
  MinerSide& m = it->second;
  SoftStopInput in;
  MinerReport report = m.link->take();
  for (auto& [command, result] : report.done) {
    if (command == MinerCommand::sleep) in.sleep_done = result;
    if (!result.ok) log::warn("miner {}: {} refused: {}", l.id, command_name(command), result.detail);
  }
  if (report.telemetry) {
    if (report.telemetry->answered) {
      m.latest = std::move(report.telemetry);
      m.latest_at = now;
      m.answered_at = now;
      if (!m.error.empty()) log::info("miner {}: its API answers ({})", l.id, m.latest->firmware);
      m.error.clear();
      guarded(SideJob::publish, [&] { publish_miner(l.id, m); });  // never between a decision and its relay
    } else if (report.telemetry->error != m.error) {
      m.error = report.telemetry->error;
      // A miner that answered and stopped is news; one not yet up (booting, unpowered) is not.
      if (m.latest && (d.on || m.stop.stopping())) log::warn("miner {}: its API does not answer: {}", l.id, m.error);
    }
  }
  // Answering: a read within three polls (and 30 s at least).
  const auto within = std::max<rules::Duration>(3 * std::chrono::duration_cast<rules::Duration>(m.config.poll),
                                                std::chrono::seconds(30));
  in.want_on = d.on;
  in.urgent = urgent(d.reason.code);
  in.answering = m.latest && now - m.answered_at <= within;
  in.latest = m.latest;
  in.latest_at = m.latest_at;
  const SoftStopStep step = m.stop.step(in, now);
  if (step.send) m.link->send(*step.send);
  if (!step.note.empty()) log::info("miner {}: {}", l.id, step.note);
  return step.relay_on;
}

// <prefix>/load/<id>/miner: what the miner says of itself, as it arrives.
void Daemon::publish_miner(const std::string& id, const MinerSide& m) {
  if (!m.latest) return;
  const auto& t = *m.latest;
  nlohmann::json j = {{"state", std::string(drivers::miners::state_name(t.state))}, {"firmware", t.firmware}};
  const auto put = [&](const char* k, const std::optional<double>& v) { j[k] = v ? nlohmann::json(*v) : nlohmann::json(); };
  put("power_w", t.power_w);
  put("hashrate_ths", t.hashrate_ths);
  put("max_temp_c", t.max_temp_c);
  put("fan_rpm", t.fan_rpm);
  mqtt_publish(config_.mqtt.prefix + "/load/" + id + "/miner", j.dump(), true);
}

}  // namespace shackd

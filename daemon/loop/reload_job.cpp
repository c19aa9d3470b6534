// On the reloader's thread (daemon/loop/reload_job.hpp): the file read and checked, the devices
// and MQTT side built aside, the profiles checked and stored through the recorder. Nothing of
// the running daemon is read but what it was handed.
#include "daemon/loop/reload_job.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "daemon/metrics/server.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

Refusal reload_refusal(std::string field, std::string value, std::string rule) {
  std::string said = rule;
  return Refusal{.load_id = "", .field = std::move(field), .value = std::move(value), .rule = std::move(rule), .said = std::move(said)};
}

ReloadOutcome reload_job(const Config& running, const ReloadParts& parts) {
  ReloadOutcome out;
  const ConfigResult c = load_config(parts.config_path, parts.kinds);
  if (!c.config) {
    log::error("reload refused, keeping the running config: {} has {} error(s):", parts.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    out.refusal = reload_refusal("config", parts.config_path, c.errors.empty() ? "the config cannot be read" : c.errors.front());
    return out;
  }
  Config next = *c.config;
  if (parts.dry_run) next.dry_run = true;
  if (parts.shadow) next.shadow = true;
  // Whether shackd commands the relays at all is not changed under it: a reload that would hand it
  // the site (or take it away) mid-run is refused; a restart does it, with the start's checks.
  if (next.shadow != running.shadow) {
    out.refusal = reload_refusal("loop.shadow", fmt::format("{}", next.shadow),
                                 fmt::format("loop.shadow: {} in the file, {} running: shadow mode changes only at a "
                                             "restart (systemctl restart shackd)",
                                             next.shadow, running.shadow));
    log::error("reload refused, keeping the running config: {}", out.refusal->said);
    return out;
  }
  if (next.shadow) next.dry_run = true;  // every guard a dry run has, and more (Daemon::start)
  if (const auto missing = check_files(next); !missing.empty()) {
    log::error("reload refused, keeping the running config:");
    for (const auto& e : missing) log::error("  {}", e);
    out.refusal = reload_refusal("files", "", missing.front());
    return out;
  }
  // Sections compare by their parsed values: a comment or a reordered key changes nothing.
  out.mqtt_changed = !(running.mqtt == next.mqtt) || running.relays != next.relays ||
                     !(running.relay_timing == next.relay_timing) || running.sensors != next.sensors ||
                     running.uplink.enabled != next.uplink.enabled;  // the $SYS subscription
  // Reconnecting the devices costs a poll or two; only when their section changed (a SIGHUP
  // storm must not keep the Modbus links down).
  out.devices_changed = running.devices != next.devices;
  out.limits_changed = running.charge_block_action != next.charge_block_action;
  out.metrics_changed = !(running.metrics == next.metrics);
  // A token rotated in place (the same file, a new first line) is compared on the loop's thread,
  // with the token the endpoint serves (MetricsExporter::token_changed); read here, off it.
  if (!next.metrics.token_file.empty()) out.metrics_token = metrics::read_token(next.metrics.token_file);
  // A miner's link and a stop in progress stay as they are: a half-done soft stop must not be
  // dropped by a SIGHUP. Said, so that nobody waits for a change that is not taken.
  // A power target's range and limits are the profiles' and are taken now.
  const auto links = [](std::vector<drivers::miners::MinerConfig> v) {
    for (auto& m : v) m.target.reset();
    return v;
  };
  if (links(running.miners) != links(next.miners)) {
    log::warn("reload: miners: changed; the change takes effect at the next start (systemctl restart shackd)");
  }
  // All or nothing: the new devices and MQTT side are built aside, then the profiles are checked
  // and stored, and only then does the daemon take them. A throw at any step keeps the running
  // runtime whole, relays included (it used to drop the relay manager before building the next).
  try {
    if (out.devices_changed) out.workers = parts.make_workers(next);
    if (out.mqtt_changed && parts.make_mqtt) out.mqtt = parts.make_mqtt(next);
    SiteLoad loaded;
    std::map<std::string, ChargeLimitRow> rows;
    std::string rows_failed;
    const bool rebuild_limits = out.devices_changed || out.limits_changed;
    // The recorder's thread runs it between two writes; this thread waits for it, the loop does
    // not (a bound all the same: a card that takes no write at all refuses the reload).
    const bool ran = parts.recorder ? parts.recorder->call(
                                     [&](db::Db& db) {
                                       loaded = load_site(db, next, false);
                                       if (!loaded.ok || !rebuild_limits) return;
                                       try {
                                         rows = load_charge_limits(db);
                                       } catch (const db::Error& e) {
                                         rows_failed = e.what();
                                       }
                                     },
                                     std::chrono::seconds(60))
                               : false;
    if (!ran) throw std::runtime_error("the database did not take the profiles within 60 s (a slow or busy card)");
    if (!loaded.ok) throw std::runtime_error(loaded.refusal.empty() ? "a relay or sensor reference is broken" : loaded.refusal);
    if (rebuild_limits) {
      if (!rows_failed.empty()) log::warn("charge limits: cannot read their state, assuming none is held at 0 A: {}", rows_failed);
      out.charge_rows = std::move(rows);
    }
    out.ready = std::move(loaded.ready);
    out.profile_events = std::move(loaded.events);
  } catch (const std::exception& e) {
    log::error("reload refused, keeping the running config: {}", e.what());
    out = ReloadOutcome{};
    out.refusal = reload_refusal("reload", "", e.what());
    return out;
  }
  out.next = std::move(next);
  return out;
}

}  // namespace shackd

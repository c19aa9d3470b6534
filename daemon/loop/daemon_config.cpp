// The daemon's config: loading it (profiles, loads carried over by name, the snapshot mapping)
// and reloading it on SIGHUP, refused whole when anything in it is wrong.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "daemon/config/profiles_apply.hpp"
#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/notify.hpp"
#include "daemon/system/signals.hpp"

namespace shackd {

bool Daemon::load(const Config& config, bool first) {
  // Profiles: the YAML's section over the database's. Checked in memory first, references
  // included, so that nothing is written for a config that will not be used.
  StoredProfiles p = load_profiles(*db_);
  bool apply = false;
  if (config.profiles) {
    StoredProfiles next = p;
    const auto errors = overlay_profiles(*config.profiles, next, "profiles");
    if (!errors.empty()) {
      log::error("{}: the profiles: section was refused; the profiles in force stay in force:", config.source);
      for (const auto& e : errors) log::error("  {}", e);
    } else {
      p = std::move(next);
      apply = true;
    }
  }
  const auto ref_errors = check_references(config, p);
  if (!ref_errors.empty()) {
    log::error("{}: {}", config.source, first ? "cannot start:" : "reload refused, keeping the running config:");
    for (const auto& e : ref_errors) log::error("  {}", e);
    return false;
  }
  // Schedules, and every log line from here on, are in the site's local time.
  setenv("TZ", p.site.timezone.c_str(), 1);
  tzset();
  for (const auto& id : unused_relays(config, p)) {
    log::warn("{}: relays.{} is defined but no profile switches it", config.source, id);
  }
  if (apply) {
    const ApplyResult r = apply_profiles(*db_, config.text, config.source);
    if (!r.backup_path.empty()) log::info("database {}: backup before removing profiles: {}", db_->path(), r.backup_path);
    if (r.outcome == ApplyOutcome::applied) {
      log::info("{}: profiles applied ({} row(s) changed)", config.source, r.rows_written);
      for (const auto& c : r.changes) {
        log::info("  {}", c);
        pending_events_.push_back("profiles: " + c);
      }
    }
    p = load_profiles(*db_);
  }
  // Carry each load's state over by its name, so a reload never flaps a relay.
  const auto old_loads = loads_;
  const rules::State old_state = state_;
  profiles_ = std::move(p);
  std::vector<std::string> zone_names;
  for (const auto& z : profiles_.rules.zones) zone_names.push_back(z.name);
  const std::set<std::string> defined = relay_ids(config);
  loads_ = load_refs(profiles_, &defined);
  // A load that is gone must not stay on: its relay, where it is still defined, is switched off
  // (the relay manager would otherwise keep resending the last ON).
  for (const auto& o : old_loads) {
    bool kept = false;
    for (const auto& l : loads_) kept = kept || l.id == o.id;
    if (kept || !relays_ || !defined.count(o.id) || config.dry_run) continue;
    log::info("{}: removed from the profiles: relay {} switched OFF", o.name, o.id);
    relays_->set_desired(o.id, false, clock_.steady());
  }
  state_ = {};
  state_.site = old_state.site;
  state_.miners.resize(profiles_.rules.miners.size());
  state_.zones.resize(profiles_.rules.zones.size());
  for (const auto& l : loads_) {
    for (const auto& o : old_loads) {
      if (o.state_key == l.state_key) state_of(state_, l) = state_of(old_state, o);
    }
  }
  mapping_ = devices::snapshot_mapping(config, profiles_.rules.site.thresholds);
  mapping_.fresh_within = profiles_.rules.site.electrical_stale_after;
  std::vector<std::string> v_names, t_names;
  for (const auto& v : mapping_.battery_v) v_names.push_back(v.name);
  for (const auto& t : mapping_.battery_temp_c) t_names.push_back(t.name);
  journal_header_ = journal_header(zone_names, v_names, t_names);
  for (std::size_t i = 0; i < profiles_.zones.size(); ++i) {
    const auto& sid = profiles_.zones[i].sensor_id;
    mapping_.zone_temp_c.push_back(sid.find('.') == std::string::npos ? "sensor." + sid : sid);
  }
  return true;
}

void Daemon::reload() {
  signals::reload = false;
  say_systemd(fmt::format("RELOADING=1\nMONOTONIC_USEC={}",
                     std::chrono::duration_cast<std::chrono::microseconds>(clock_.steady().time_since_epoch()).count()));
  log::info("SIGHUP: reloading {}", options_.config_path);
  const ConfigResult c = load_config(options_.config_path, seams_.kinds);
  if (!c.config) {
    log::error("reload refused, keeping the running config: {} has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    event("config", "", {rules::ReasonCode::none}, "reload refused: " + c.errors.front(), clock_.wall_s());
    say_systemd("READY=1");
    return;
  }
  Config next = *c.config;
  if (options_.dry_run) next.dry_run = true;
  if (const auto missing = check_files(next); !missing.empty()) {
    log::error("reload refused, keeping the running config:");
    for (const auto& e : missing) log::error("  {}", e);
    event("config", "", {rules::ReasonCode::none}, "reload refused: " + missing.front(), clock_.wall_s());
    say_systemd("READY=1");
    return;
  }
  try {
    if (!load(next, false)) {
      event("config", "", {rules::ReasonCode::none}, "reload refused: a relay or sensor reference is broken", clock_.wall_s());
      say_systemd("READY=1");
      return;
    }
  } catch (const std::exception& e) {
    log::error("reload refused, keeping the running config: {}", e.what());
    say_systemd("READY=1");
    return;
  }
  // Sections compare by their parsed values: a comment or a reordered key changes nothing.
  const bool mqtt_changed = !(config_.mqtt == next.mqtt) || config_.relays != next.relays ||
                            !(config_.relay_timing == next.relay_timing) || config_.sensors != next.sensors;
  // Reconnecting the devices costs a poll or two; only when their section changed (a SIGHUP
  // storm must not keep the Modbus links down).
  const bool devices_changed = config_.devices != next.devices;
  const bool limits_changed = config_.charge_block_action != next.charge_block_action;
  config_ = next;
  if (devices_changed) start_devices();
  else if (limits_changed) build_charge_limits();
  if (mqtt_changed && !seams_.publish) {
    if (mqtt_) mqtt_->shutdown(std::chrono::milliseconds(2000));
    start_mqtt();
  }
  offer_settings();
  publisher_.forget();
  publish_all_ = true;
  flush_pending_events();
  event("config", "", {rules::ReasonCode::none}, "reloaded " + options_.config_path, clock_.wall_s());
  say_systemd("READY=1");
}

}  // namespace shackd

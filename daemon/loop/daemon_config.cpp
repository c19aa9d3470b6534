// The daemon's config: loading it (profiles, loads carried over by name, the snapshot mapping)
// and reloading it on SIGHUP, refused whole when anything in it is wrong.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "daemon/config/miners_yaml.hpp"
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

// What a config makes of the running daemon, computed aside from it: nothing here touches the
// daemon's members, so a throw leaves the running runtime whole.
Daemon::Prepared Daemon::prepare(const Config& config, StoredProfiles p) const {
  Prepared r;
  apply_miner_targets(config.miners, p);
  std::vector<std::string> zone_names;
  for (const auto& z : p.rules.zones) zone_names.push_back(z.name);
  const std::set<std::string> defined = relay_ids(config);
  r.loads = load_refs(p, &defined);
  // Carry each load's state over by its name, so a reload never flaps a relay. A load that is gone
  // must not stay on: its relay, where it is still defined, is switched off at the commit (the
  // relay manager would otherwise keep resending the last ON).
  for (const auto& o : loads_) {
    bool kept = false;
    for (const auto& l : r.loads) kept = kept || l.id == o.id;
    if (!kept && defined.count(o.id)) r.removed.push_back(o);
  }
  r.state.site = state_.site;
  r.state.miners.resize(p.rules.miners.size());
  r.state.zones.resize(p.rules.zones.size());
  for (const auto& l : r.loads) {
    for (const auto& o : loads_) {
      if (o.state_key == l.state_key) state_of(r.state, l) = state_of(state_, o);
    }
  }
  r.mapping = devices::snapshot_mapping(config, p.rules.site.thresholds);
  r.mapping.fresh_within = p.rules.site.electrical_stale_after;
  std::vector<std::string> v_names, t_names;
  for (const auto& v : r.mapping.battery_v) v_names.push_back(v.name);
  for (const auto& t : r.mapping.battery_temp_c) t_names.push_back(t.name);
  // The miners whose own API reports their draw: the rules use it, so the journal carries it.
  std::vector<std::string> m_names;
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    for (const auto& mc : config.miners) {
      if (mc.load_id == p.miners[i].relay_id && mc.kind) {
        r.journal_miners.push_back(i);
        m_names.push_back(p.rules.miners[i].name);
      }
    }
  }
  r.journal_header = journal_header(zone_names, v_names, t_names, m_names);
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    const auto& sid = p.zones[i].sensor_id;
    r.mapping.zone_temp_c.push_back(sid.find('.') == std::string::npos ? "sensor." + sid : sid);
  }
  r.profiles = std::move(p);
  return r;
}

// Only moves: once the database has taken the profiles, the daemon takes the whole runtime.
void Daemon::commit(Prepared&& r) {
  profiles_ = std::move(r.profiles);
  loads_ = std::move(r.loads);
  state_ = std::move(r.state);
  mapping_ = std::move(r.mapping);
  journal_header_ = std::move(r.journal_header);
  journal_miners_ = std::move(r.journal_miners);
  removed_loads_ = std::move(r.removed);
}

void Daemon::switch_off_removed_loads() {
  for (const auto& o : removed_loads_) {
    if (!relays_ || config_.dry_run) continue;
    log::info("{}: removed from the profiles: relay {} switched OFF", o.name, o.id);
    relays_->set_desired(o.id, false, clock_.steady());
  }
  removed_loads_.clear();
}

bool Daemon::load(const Config& config, bool first) {
  // Profiles: the YAML's section over the database's. Checked in memory first, references
  // included, so that nothing is written for a config that will not be used.
  StoredProfiles p = load_profiles(*db_);
  bool apply = false;
  if (config.profiles) {
    StoredProfiles next = p;
    const auto errors = overlay_profiles(*config.profiles, next, "profiles");
    if (!errors.empty()) {
      // At the first start the site is controlled with the profiles in force; a reload with a
      // refused section is refused whole (it used to go on and record "reloaded").
      log::error("{}: the profiles: section was refused; {}:", config.source,
                 first ? "the profiles in force stay in force" : "reload refused, keeping the running config");
      for (const auto& e : errors) log::error("  {}", e);
      if (!first) {
        refusal_ = "the profiles: section: " + errors.front();
        return false;
      }
    } else {
      p = std::move(next);
      apply = true;
    }
  }
  const auto ref_errors = check_references(config, p);
  if (!ref_errors.empty()) {
    log::error("{}: {}", config.source, first ? "cannot start:" : "reload refused, keeping the running config:");
    for (const auto& e : ref_errors) log::error("  {}", e);
    refusal_ = ref_errors.front();
    return false;
  }
  Prepared ready = prepare(config, p);  // before anything is written: a throw here writes nothing
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
    ready = prepare(config, load_profiles(*db_));  // as stored, with the rows' ids
  }
  // Schedules, and every log line from here on, are in the site's local time. Only when it
  // changes: setenv while the pollers' threads may read the environment is a race (setenv(3) is
  // MT-Unsafe), and a reload that keeps the zone should not touch it.
  if (const char* tz = std::getenv("TZ"); !tz || ready.profiles.site.timezone != tz) {
    setenv("TZ", ready.profiles.site.timezone.c_str(), 1);
    tzset();
  }
  commit(std::move(ready));
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
  // Sections compare by their parsed values: a comment or a reordered key changes nothing.
  const bool mqtt_changed = !(config_.mqtt == next.mqtt) || config_.relays != next.relays ||
                            !(config_.relay_timing == next.relay_timing) || config_.sensors != next.sensors ||
                            config_.uplink.enabled != next.uplink.enabled;  // the $SYS subscription
  // Reconnecting the devices costs a poll or two; only when their section changed (a SIGHUP
  // storm must not keep the Modbus links down).
  const bool devices_changed = config_.devices != next.devices;
  const bool limits_changed = config_.charge_block_action != next.charge_block_action;
  const bool metrics_changed = !(config_.metrics == next.metrics) || metrics_token_changed(next);
  // A miner's link and a stop in progress stay as they are: a half-done soft stop must not be
  // dropped by a SIGHUP. Said, so that nobody waits for a change that is not taken.
  // A power target's range and limits are the profiles' and are taken now.
  const auto links = [](std::vector<drivers::miners::MinerConfig> v) {
    for (auto& m : v) m.target.reset();
    return v;
  };
  if (links(config_.miners) != links(next.miners)) {
    log::warn("reload: miners: changed; the change takes effect at the next start (systemctl restart shackd)");
  }
  // All or nothing: the new devices and MQTT side are built aside, then the profiles are checked
  // and stored, and only then does the daemon take them. A throw at any step keeps the running
  // runtime whole, relays included (it used to drop the relay manager before building the next).
  std::vector<std::unique_ptr<PolledDevice>> workers;
  MqttSide mqtt;
  refusal_.clear();
  try {
    if (devices_changed) workers = make_workers(next);
    if (mqtt_changed && !seams_.publish) mqtt = make_mqtt(next);
    if (!load(next, false)) throw std::runtime_error(refusal_.empty() ? "a relay or sensor reference is broken" : refusal_);
  } catch (const std::exception& e) {
    log::error("reload refused, keeping the running config: {}", e.what());
    event("config", "", {rules::ReasonCode::none}, std::string("reload refused: ") + e.what(), clock_.wall_s());
    say_systemd("READY=1");
    return;
  }
  config_ = next;
  if (!db_in_memory_.empty()) config_.journal_days = 0;  // still in memory: no journal (daemon_records.cpp)
  if (!config_.uplink.enabled) mqtt_health_.bridges.clear();
  uplink_state_at_.reset();  // the next publish says the state under the topics in force
  if (metrics_changed) {
    retire_metrics();
    metrics_retry_at_.reset();
    start_metrics(clock_.steady());
  }
  if (devices_changed) {
    workers_ = std::move(workers);
    longest_timeout_ = devices::longest_timeout(config_);
    build_charge_limits();
  } else if (limits_changed) {
    build_charge_limits();
  }
  if (mqtt.link) {
    if (mqtt_) mqtt_->shutdown(std::chrono::milliseconds(2000));
    relays_ = std::move(mqtt.relays);
    mqtt_ = std::move(mqtt.link);
    mqtt_->start();
  }
  switch_off_removed_loads();
  offer_settings();
  publisher_.forget();
  publish_all_ = true;
  flush_pending_events();
  event("config", "", {rules::ReasonCode::none}, "reloaded " + options_.config_path, clock_.wall_s());
  say_systemd("READY=1");
}

}  // namespace shackd

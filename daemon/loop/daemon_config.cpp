// The daemon's config: loading it (profiles, loads carried over by name, the snapshot mapping)
// and reloading it on SIGHUP, refused whole when anything in it is wrong.
#include "daemon/loop/daemon.hpp"
#include "daemon/loop/site_build.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "daemon/config/miners_yaml.hpp"
#include "daemon/config/profiles_apply.hpp"
#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/notify.hpp"
#include "daemon/system/signals.hpp"

namespace shackd {

// Only moves: once the database has taken the profiles, the daemon takes the whole runtime.
void Daemon::commit(Prepared&& r) {
  carry_over(r, core_.site().loads, core_.state());
  core_.take_site(CoreSite{std::move(r.profiles), std::move(r.loads), std::move(r.mapping)}, std::move(r.state));
  journal_.take_header(std::move(r.journal_header), std::move(r.journal_miners));
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

void Daemon::take_profiles(Prepared&& ready) {
  // Schedules, and every log line from here on, are in the site's local time. Only when it
  // changes: setenv while the pollers' threads may read the environment is a race (setenv(3) is
  // MT-Unsafe), and a reload that keeps the zone should not touch it.
  if (const char* tz = std::getenv("TZ"); !tz || ready.profiles.site.timezone != tz) {
    setenv("TZ", ready.profiles.site.timezone.c_str(), 1);
    tzset();
  }
  commit(std::move(ready));
}

// SIGHUP: the reload runs on the reloader's thread (reload_job): reading and checking the file,
// building the new devices and MQTT link aside, the profiles against the database (on the
// recorder's thread). The loop goes on meanwhile and takes the outcome whole at the top of a later
// cycle (finish_reload), or refuses it whole: a reload never stops a cycle, whatever the file or
// the card (a YAML that takes long to read, a database write of seconds). One at a time: a storm
// of signals while one runs is one more reload after it.
void Daemon::begin_reload() {
  if (!signals::reload || reloader_.pending()) return;
  signals::reload = false;
  say_systemd(fmt::format("RELOADING=1\nMONOTONIC_USEC={}",
                          std::chrono::duration_cast<std::chrono::microseconds>(clock_.steady().time_since_epoch()).count()));
  log::info("SIGHUP: reloading {}", options_.config_path);
  reloader_.start([this, running = config_] {
    auto outcome = std::make_unique<ReloadOutcome>();
    try {
      *outcome = reload_job(running);
    } catch (const std::exception& e) {
      outcome = std::make_unique<ReloadOutcome>();
      outcome->refusal = e.what();
    }
    return outcome;
  });
}

// On the reloader's thread: everything a reload needs, built aside; no member of the running
// daemon is read but the seams and the recorder (both fixed from the start).
Daemon::ReloadOutcome Daemon::reload_job(const Config& running) const {
  ReloadOutcome out;
  const ConfigResult c = load_config(options_.config_path, seams_.kinds);
  if (!c.config) {
    log::error("reload refused, keeping the running config: {} has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    out.refusal = c.errors.empty() ? "the config cannot be read" : c.errors.front();
    return out;
  }
  Config next = *c.config;
  if (options_.dry_run) next.dry_run = true;
  if (const auto missing = check_files(next); !missing.empty()) {
    log::error("reload refused, keeping the running config:");
    for (const auto& e : missing) log::error("  {}", e);
    out.refusal = missing.front();
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
    if (out.devices_changed) out.workers = make_workers(next);
    if (out.mqtt_changed && !seams_.publish) out.mqtt = make_mqtt(next);
    LoadResult loaded;
    std::map<std::string, ChargeLimitRow> rows;
    std::string rows_failed;
    const bool rebuild_limits = out.devices_changed || out.limits_changed;
    // The recorder's thread runs it between two writes; this thread waits for it, the loop does
    // not (a bound all the same: a card that takes no write at all refuses the reload).
    const bool ran = storage_.recorder() ? storage_.recorder()->call(
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
    out.refusal = e.what();
    return out;
  }
  out.next = std::move(next);
  return out;
}

// At the top of a cycle: a finished reload's outcome taken whole, or its refusal told.
void Daemon::finish_reload() {
  std::unique_ptr<ReloadOutcome> o = reloader_.take();
  if (!o) return;
  if (!o->refusal.empty() || !o->next || !o->ready) {
    event("config", "", {rules::ReasonCode::none},
          "reload refused: " + (o->refusal.empty() ? std::string("the config cannot be read") : o->refusal), clock_.wall_s());
    say_systemd("READY=1");
    return;
  }
  for (auto& e : o->profile_events) events_.hold(std::move(e));
  take_profiles(std::move(*o->ready));
  config_ = std::move(*o->next);
  if (!db_in_memory_.empty()) config_.journal_days = 0;  // still in memory: no journal (database_in_memory)
  if (auto* r = storage_.recorder()) r->set_retention(config_.telemetry_days, config_.events_days, config_.journal_days);
  if (!config_.uplink.enabled) broker_.forget_bridges();
  if (o->metrics_changed || metrics_.token_changed(config_.metrics, o->metrics_token)) {
    metrics_.restart(config_.metrics, config_.interval, clock_.steady());
  }
  if (o->devices_changed) {
    core_.devices().set(std::move(o->workers), devices::longest_timeout(config_));
  }
  if (o->charge_rows) build_charge_limits(std::move(*o->charge_rows));
  if (o->mqtt.link) {
    // The old link says goodbye on another thread: its disconnect is bounded at 2 s, which the
    // loop does not wait for.
    events_.outbox().set_link(o->mqtt.link.get());  // first: the outbox's thread lets go of the old link
    publisher_.set_link(o->mqtt.link.get());  // never waits: its thread is let go of below
    if (mqtt_) {
      links_retiring_.push_back(std::async(std::launch::async, [old = std::move(mqtt_), pub = &publisher_]() mutable {
        pub->release(old.get());  // a publish under way on it ends first
        old->shutdown(std::chrono::milliseconds(2000));
        old.reset();
      }));
    }
    relays_ = std::move(o->mqtt.relays);
    mqtt_ = std::move(o->mqtt.link);
    mqtt_->start();
  }
  std::erase_if(links_retiring_, [](const std::future<void>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
  switch_off_removed_loads();
  offer_settings();
  publisher_.forget();  // everything again, the uplink's state under the topics in force
  for (const auto& detail : events_.take_held()) event("config", "", {rules::ReasonCode::none}, detail, clock_.wall_s());
  event("config", "", {rules::ReasonCode::none}, "reloaded " + options_.config_path, clock_.wall_s());
  say_systemd("READY=1");
}

}  // namespace shackd

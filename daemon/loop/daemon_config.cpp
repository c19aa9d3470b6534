// The daemon's config: loading it (profiles, loads carried over by name, the snapshot mapping)
// and reloading it on SIGHUP, refused whole when anything in it is wrong.
#include "daemon/loop/daemon.hpp"
#include "daemon/loop/site_parts.hpp"
#include "daemon/loop/reload_job.hpp"
#include "daemon/loop/site_build.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "daemon/config/miners_yaml.hpp"
#include "daemon/loop/profiles_apply.hpp"
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
std::vector<LoadRef> Daemon::take_profiles(PreparedSite&& ready) {
  // Schedules, and every log line from here on, are in the site's local time. Only when it
  // changes: setenv while the pollers' threads may read the environment is a race (setenv(3) is
  // MT-Unsafe), and a reload that keeps the zone should not touch it.
  if (const char* tz = std::getenv("TZ"); !tz || ready.profiles.site.timezone != tz) {
    setenv("TZ", ready.profiles.site.timezone.c_str(), 1);
    tzset();
  }
  SafetyCore& core = loop_.core();
  carry_over(ready, core.site().loads, core.state());
  core.take_site(CoreSite{std::move(ready.profiles), std::move(ready.loads), std::move(ready.mapping)},
                  std::move(ready.state));
  storage_.journal().take_header(std::move(ready.journal_header), std::move(ready.journal_miners), std::move(ready.journal_ac));
  return std::move(ready.removed);
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
  loop_.systemd().say(fmt::format("RELOADING=1\nMONOTONIC_USEC={}",
                          std::chrono::duration_cast<std::chrono::microseconds>(loop_.clock().steady().time_since_epoch()).count()));
  log::info("SIGHUP: reloading {}", options_.config_path);
  ReloadParts parts{.config_path = options_.config_path,
                    .dry_run = options_.dry_run,
                    .shadow = options_.shadow,
                    .kinds = seams_.kinds,
                    .make_workers = [this](const Config& c) { return make_workers(c, seams_); },
                    .make_mqtt = [this](const Config& c) { return make_mqtt_side(c, seams_, mqtt_.relay_lane()); },
                    .recorder = storage_.recorder()};
  reloader_.start([running = config_, parts = std::move(parts)] {
    auto outcome = std::make_unique<ReloadOutcome>();
    try {
      *outcome = reload_job(running, parts);
    } catch (const std::exception& e) {
      outcome = std::make_unique<ReloadOutcome>();
      outcome->refusal = reload_refusal("reload", "", e.what());
    }
    return outcome;
  });
}

// At the top of a cycle: a finished reload's outcome taken whole, or its refusal told.
void Daemon::finish_reload() {
  std::unique_ptr<ReloadOutcome> o = reloader_.take();
  if (!o) return;
  if (o->refusal || !o->next || !o->ready) {
    events_.add(site_event("config", "reload refused: " + (o->refusal ? o->refusal->said : std::string("the config cannot be read")),
                           loop_.clock().wall_s()));
    loop_.systemd().say("READY=1");
    return;
  }
  for (auto& e : o->profile_events) events_.hold(std::move(e));
  const std::vector<LoadRef> removed = take_profiles(std::move(*o->ready));
  config_ = std::move(*o->next);
  if (!storage_.in_memory().empty()) config_.journal_days = 0;  // still in memory: no journal (database_in_memory)
  if (auto* r = storage_.recorder()) r->set_retention(config_.telemetry_days, config_.events_days, config_.journal_days);
  configure_names();
  desk_.forget_ahead();  // the settings in flight are checked again as they are taken
  if (o->metrics_changed || metrics_.token_changed(config_.metrics, o->metrics_token)) {
    metrics_.restart(config_.metrics, config_.interval, loop_.clock().steady());
  }
  if (o->devices_changed) {
    loop_.core().devices().set(std::move(o->workers), devices::longest_timeout(config_));
  }
  if (o->charge_rows) loop_.build_charge_limits(config_, options_.once, std::move(*o->charge_rows), storage_);
  if (o->mqtt.link) {
    // The old link says goodbye on another thread (MqttLinks::take), which the loop does not wait
    // for; the lanes route to the new one from here on, and a caller still inside the old one
    // keeps it alive until it leaves.
    mqtt_.take(std::move(o->mqtt), loop_.clock().steady());
  }
  for (const auto& l : removed) {
    if (!mqtt_.relays() || config_.dry_run) continue;
    log::info("{}: removed from the profiles: relay {} switched OFF", l.name, l.id);
    mqtt_.relays()->set_desired(l.id, false, loop_.clock().steady());
  }
  desk_.intake().offer(loop_.profiles(), loop_.loads());
  // A changed candidate starts again from the state in force now; the same one goes on.
  loop_.guarded(SideJob::shadow, [&] {
    shadow_.candidate(config_.candidate, loop_.core().state(), loop_.loads(), loop_.clock().wall_ms(),
                      ShadowSide::out_to(publisher_, storage_.recorder(), config_, loop_.clock().wall_s(),
                                         start_.site_id()));
  });
  publisher_.forget();  // everything again, the uplink's state under the topics in force
  for (const auto& detail : events_.take_held()) events_.add(site_event("config", detail, loop_.clock().wall_s()));
  events_.add(site_event("config", "reloaded " + options_.config_path, loop_.clock().wall_s()));
  loop_.systemd().say("READY=1");
}

}  // namespace shackd

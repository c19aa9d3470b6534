// The daemon's start (issue 57 item 4: the composition root): the config loaded, the components
// made and wired, the database opened on a thread of its own (daemon_open.cpp), the devices and
// MQTT started; what the components see of the site's names.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "daemon/devices/registry.hpp"
#include "daemon/loop/site_parts.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

namespace {

// What the start's line says of a run that commands nothing.
const char* mode_note(const Config& c) {
  return c.shadow ? " (SHADOW: switches nothing)" : c.dry_run ? " (dry run: no relay commands)" : "";
}

}  // namespace

Daemon::Daemon(RunOptions options, Seams seams)
    : options_(std::move(options)),
      seams_(std::move(seams)),
      loop_(seams_.clock ? *seams_.clock : system_clock(), seams_.notify),
      desk_({loop_, mqtt_, publisher_, shadow_, storage_, events_, config_, loop_.clock()}) {}

Daemon::~Daemon() = default;

std::optional<int> Daemon::start() {
  const std::int64_t run_ms = loop_.clock().wall_ms();
  start_.started_at(run_ms / 1000);
  // Each event kept with this cycle's records for the recorder, and sent through the outbox.
  events_.wire(
      run_ms,
      [this](Event e) {
        storage_.records().events.push_back(std::move(e));
        ++loop_.stats().events;
      },
      [this](const char* what) { side_failed(loop_.stats(), SideJob::events, what); });
  storage_.on_event_fate(events_.store_fate());  // what the store keeps or drops, by each event's seq
  const ConfigResult c = load_config(options_.config_path, seams_.kinds);
  if (!c.config) {
    log::error("{}: the config has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    return kExConfig;
  }
  config_ = *c.config;
  if (options_.dry_run) config_.dry_run = true;
  if (options_.shadow) config_.shadow = true;
  // Shadow mode has every guard a dry run has (no relay command, no charge limit, no miner API,
  // no power-on question), and a gate of its own on the relays' lane (make_mqtt_side, loop/site_parts.cpp).
  if (config_.shadow) config_.dry_run = true;
  loop_.alarms().set_shadow(config_.shadow);
  configure_names();
  // The site's timezone for the very first log lines, where the config gives it (the database's
  // is set once the profiles are loaded).
  if (config_.profiles && config_.profiles->IsMap() && (*config_.profiles)["site"].IsMap()) {
    const YAML::Node tz = (*config_.profiles)["site"]["timezone"];
    if (tz.IsScalar() && !tz.Scalar().empty()) {
      setenv("TZ", tz.Scalar().c_str(), 1);
      tzset();
    }
  }
  if (const auto missing = check_files(config_); !missing.empty()) {
    log::error("{}: cannot start: {} file(s) the config names are not usable:", options_.config_path, missing.size());
    for (const auto& e : missing) log::error("  {}", e);
    return kExConfig;
  }
  if (!options_.once) {
    std::string why;
    if (!storage_.lock(config_.database_path, why)) {
      log::error("cannot start: {}", why);
      return kExTempFail;
    }
  }
  // The database is opened, migrated and read on a thread of its own (daemon_open.cpp): a card
  // that takes seconds a read must not hold the devices, MQTT, the first relay command or the
  // watchdog (issue 44, item 4). `once` has no later cycle to take it in: it opens it here.
  start_.set_wait(seams_.store_wait.value_or(store_wait(config_.interval)));
  const std::int64_t open_wall_s = loop_.clock().wall_s();
  const auto open_began = std::chrono::steady_clock::now();  // a real bound, as OneJob::settle's
  if (options_.once) {
    start_.opener().put(std::make_unique<OpenedStore>(open_store(config_, open_wall_s, false)));
    if (const auto rc = take_store()) return rc;
  } else {
    // The lock's pid is written here too, off the start's path: the lock (storage_'s) outlives the
    // opener (start_ is the last member, joined first).
    start_.opener().start([running = config_, open_wall_s, lock = storage_.held_lock()] {
      lock->write_pid();
      return std::make_unique<OpenedStore>(open_store(running, open_wall_s, !running.dry_run));
    });
  }
  try {
    // The devices; a miner's API only where its relay is commanded (not `once`, not a dry run), or
    // read only beside another controller (shadow mode: its own draw and heat in the decisions).
    loop_.core().devices().set({}, std::chrono::milliseconds(0));
    loop_.core().devices().set(make_workers(config_, seams_), devices::longest_timeout(config_));
    loop_.charge_block().clear();  // built when the stored state is taken: its rows are the database's
    if (options_.once || (config_.dry_run && !config_.shadow)) {
      loop_.miners().clear();
    } else {
      loop_.miners().start(config_.miners, seams_.make_miner,
                           [this](const std::string& id) { return miner_rating_w(loop_.profiles(), id); }, config_.shadow);
    }
    if (!options_.once) {
      // The bulk lane (drivers/mqtt/lanes.hpp) routes to the link in force: a reload changes nothing here.
      events_.outbox().set_lane(mqtt_.bulk_lane());
      publisher_.set_lane(mqtt_.bulk_lane());
      mqtt_.take(make_mqtt_side(config_, seams_, mqtt_.relay_lane()));
      // Paced by the broker's acknowledgements between cycles too; a test's in-process link is
      // pumped by the cycle alone, unless it asks (Seams::events_thread).
      if (seams_.events_thread.value_or(!seams_.make_mqtt)) events_.outbox().start_thread();
    }
    // A test's link (Seams::make_mqtt) is published to before cycle() returns, unless the test
    // asks for the thread.
    if (!options_.once && seams_.publish_thread.value_or(!seams_.make_mqtt)) publisher_.start_thread();
  } catch (const std::exception& e) {
    // Whatever the cause, one line and an exit code: never std::terminate and a restart loop.
    log::error("cannot start: {}", e.what());
    return kExUnavailable;
  }
  if (!options_.once) metrics_.start(config_.metrics, config_.interval, loop_.clock().steady());
  if (mqtt_.present()) {
    // Give the broker a moment, so that the first decision is published, not lost; bounded,
    // since shackd controls with or without MQTT.
    const auto until = loop_.clock().steady() + std::chrono::seconds(1);
    while (!mqtt_.connected() && loop_.clock().steady() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!options_.once) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - open_began);
    start_.opener().settle(std::max(std::chrono::milliseconds(0), start_.wait() - waited));
    if (const auto rc = take_store()) return rc;  // 78, 75, 65: as before, when it fails in time
  }
  // What came meanwhile (a retained override among it) against the loads, once they are known;
  // else the first cycle in the safe state takes it.
  if (mqtt_.present() && start_.taken()) desk_.take(loop_.clock().steady());
  if (start_.taken()) {
    log::info("shackd {} started: {} load(s), devices: {}{}", SHACKD_VERSION, loop_.core().site().loads.size(),
              devices::enabled_kinds(config_), mode_note(config_));
  } else {
    start_.began(loop_.clock().steady());
    log::warn("shackd {} started in the safe state: the database has not answered within {} ms; {} until it does; "
              "devices: {}{}",
              SHACKD_VERSION, start_.wait().count(),
              config_.shadow ? "it decides nothing (and commands nothing: shadow mode)" : "every relay is held OFF",
              devices::enabled_kinds(config_), mode_note(config_));
  }
  if (config_.shadow) {
    log::warn("SHADOW MODE: shackd switches NOTHING. It decides beside the controller in place and sends no relay "
              "command or question, no Modbus write and no miner API command, and sets no relay's power-on state; "
              "the relays, the bank and every safety stop stay with whoever holds them now. Where its decisions and "
              "the relays' reported states differ it records it: table shadow_disagreements, {}/shadow/<load>",
              config_.mqtt.prefix);
  }
  for (const auto& w : config_.device_warnings) log::info("config: {}", w);
  if (options_.once) {
    // The MQTT sensors report on their own period: listened for a few seconds (bounded) before
    // the one decision, so that a zone is not called stale only because `once` came and went
    // between two reports.
    const auto heard = listen_for_sensors(config_.mqtt, config_.sensors, options_.once_sensor_wait, loop_.clock());
    for (const auto& [name, value] : heard) loop_.core().devices().set_reading(name, value, loop_.clock().steady());
  }
  return std::nullopt;
}

// What the components see of the site's names, and where events go: at the start, when the
// stored state gives the site's id, and at a reload.
void Daemon::configure_names() {
  desk_.intake().configure(config_, start_.fleet_site_id(config_.site_id));  // the uplink's bridge is named by the site's id
  events_.route_to(config_.mqtt.prefix, config_.uplink.enabled, start_.fleet_site_id(config_.site_id));
}

}  // namespace shackd

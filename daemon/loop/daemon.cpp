#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <time.h>
#include <thread>

#include "daemon/config/profiles_apply.hpp"
#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/loop/state_restore.hpp"
#include "daemon/publish/ha_discovery.hpp"
#include "daemon/publish/publish.hpp"
#include "daemon/publish/render.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/notify.hpp"
#include "daemon/system/signals.hpp"
#include "drivers/mqtt/commands.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "rules/decide.hpp"

namespace shackd {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t wall_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Minutes since local midnight in the site's timezone (TZ is set to it), or nullopt while the
// wall clock cannot be trusted: a Pi without an RTC boots in 1970 or at its last shutdown time
// until NTP answers; before 2025 is certainly wrong.
std::optional<int> local_minute(std::int64_t wall_s) {
  if (wall_s < 1735689600) return std::nullopt;  // 2025-01-01
  const std::time_t t = static_cast<std::time_t>(wall_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm.tm_hour * 60 + tm.tm_min;
}

// The local date for the energy counted per day, nullopt while the clock is not trusted.
std::optional<std::string> local_day(std::int64_t wall_s) {
  if (!local_minute(wall_s)) return std::nullopt;
  const std::time_t t = static_cast<std::time_t>(wall_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string on_off(bool on) { return on ? "ON" : "OFF"; }

}  // namespace

Daemon::Daemon(RunOptions options) : options_(std::move(options)) {}

Daemon::~Daemon() = default;

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
    relays_->set_desired(o.id, false, Clock::now());
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
  mapping_ = {};
  mapping_.pv_w = config.pv_readings;
  mapping_.load_w = config.load_readings;
  mapping_.battery_v.clear();
  for (const auto& r : config.battery_v_readings) mapping_.battery_v.push_back(drivers::voltage_source(r));
  mapping_.battery_temp_c.clear();
  for (const auto& r : config.battery_temp_readings) mapping_.battery_temp_c.push_back(drivers::temperature_source(r));
  mapping_.fresh_within = profiles_.rules.site.electrical_stale_after;
  mapping_.chargers_limiting.clear();
  for (std::size_t i = 0; i < config.victron.charger_units.size(); ++i) {
    const std::string c = fmt::format("charger{}.", i + 1);
    mapping_.chargers_limiting.push_back(
        {c + "charge_state", {4, 5, 6}, fmt::format("GX solar charger {} in absorption, float or storage", i + 1)});
    mapping_.chargers_limiting.push_back(
        {c + "tracking_mode", {1}, fmt::format("GX solar charger {} tracking limited (voltage or current)", i + 1)});
  }
  mapping_.chargers_held.clear();
  if (config.solark.enabled) {
    // The Sol-Ark tells no charge stage: its battery held at the site's setpoints says it.
    const auto& t = profiles_.rules.site.thresholds;
    drivers::SnapshotMapping::HeldAtSetpoint h;
    h.label = "the Sol-Ark";
    h.battery_v = "solark.battery_v";
    h.battery_a = "solark.battery_a";
    h.pv_w = {"solark.pv1_w", "solark.pv2_w", "solark.pv3_w", "solark.pv4_w"};
    h.absorption_v = t.absorption_v;
    h.float_v = t.float_v;
    mapping_.chargers_held.push_back(std::move(h));
  }
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

std::optional<int> Daemon::start() {
  const ConfigResult c = load_config(options_.config_path);
  if (!c.config) {
    log::error("{}: the config has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    return kExConfig;
  }
  config_ = *c.config;
  if (options_.dry_run) config_.dry_run = true;
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
  try {
    db_ = std::make_unique<db::Db>(config_.database_path, db::OpenOptions{.create = true});
    const auto m = migrate(*db_, embedded_migrations());
    if (!m.applied.empty()) log::info("database {}: migrated to schema version {}", config_.database_path, m.applied.back());
    if (m.backup_path) log::info("database {}: backup before migrating: {}", config_.database_path, *m.backup_path);
    if (!load(config_, true)) return kExConfig;
    store_ = std::make_unique<RuntimeStore>(*db_);
    flush_pending_events();
    rows_ = store_->load_states();
    if (const auto day = local_day(wall_now_s())) energy_.restore(*day, store_->energy_on(*day));
    // From here on the database is written from the loop: waiting the default 5 s for another
    // writer (a `sqlite3` shell, a backup) would stall control. Wait a quarter of an interval at
    // most; a busy flush keeps its queue for the next cycle (the DB-locked row of the fault matrix).
    sqlite3_busy_timeout(db_->raw(), static_cast<int>(std::clamp<long long>(config_.interval.count() / 4, 10, 250)));
  } catch (const MigrationError& e) {
    log::error("database {}: refused:\n{}", config_.database_path, e.what());
    return kExConfig;
  } catch (const db::Error& e) {
    log::error("{}", e.what());
    return e.locked() ? kExTempFail : kExDataErr;
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return kExConfig;
  }
  restore_state();
  try {
    start_devices();
    if (!options_.once) start_mqtt();
  } catch (const std::exception& e) {
    // Whatever the cause, one line and an exit code: never std::terminate and a restart loop.
    log::error("cannot start: {}", e.what());
    return kExUnavailable;
  }
  if (!options_.once) {
    // Give the broker a moment, so that the first decision is published, not lost; bounded,
    // since shackd controls with or without MQTT.
    const auto until = Clock::now() + std::chrono::seconds(1);
    while (!mqtt_->connected() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    handle_mqtt(Clock::now());
  }
  log::info("shackd {} started: {} load(s), devices: {}{}{}", SHACKD_VERSION, loads_.size(),
            config_.victron.enabled ? "victron " : "", config_.solark.enabled ? "solark" : "",
            config_.dry_run ? " (dry run: no relay commands)" : "");
  return std::nullopt;
}

void Daemon::restore_state() {
  const auto now = Clock::now();
  const auto wall = wall_now_s();
  state_ = restored_state(profiles_.rules, loads_, rows_, now, wall);
  for (const auto& l : loads_) {
    const auto it = rows_.find(l.state_key);
    if (it == rows_.end()) continue;
    const rules::LoadState& st = state_of(state_, l);
    log::info("{}: restored {} since {}{}", l.name, on_off(st.on), it->second.since.value_or("(never switched)"),
              st.override_.mode != rules::OverrideMode::automatic ? ", override " + it->second.override_mode : "");
  }
}

void Daemon::start_devices() {
  workers_.clear();
  using namespace drivers::victron;
  if (config_.victron.enabled) {
    drivers::DeviceConfig d;
    d.name = "victron";
    d.transport = config_.victron.tcp;
    d.timeout = config_.victron.timeout;
    d.pacing = config_.victron.pacing;
    d.units.push_back({config_.victron.system_unit, &system_table(), "system"});
    if (config_.victron.battery_unit) d.units.push_back({*config_.victron.battery_unit, &battery_table(), "battery"});
    for (std::size_t i = 0; i < config_.victron.charger_units.size(); ++i) {
      d.units.push_back({config_.victron.charger_units[i], &solarcharger_table(), fmt::format("charger{}", i + 1)});
    }
    if (config_.victron.temperature_unit) d.units.push_back({*config_.victron.temperature_unit, &temperature_table(), "temp"});
    workers_.push_back(std::make_unique<PollWorker>(d));
  }
  if (config_.solark.enabled) {
    drivers::DeviceConfig d;
    d.name = "solark";
    d.transport = config_.solark.transport;
    d.timeout = config_.solark.timeout;
    d.pacing = config_.solark.pacing;
    d.max_block = config_.solark.max_block;
    d.units.push_back({config_.solark.unit, &drivers::solark::table(), "solark"});
    workers_.push_back(std::make_unique<PollWorker>(d));
  }
  build_charge_limits();
}

void Daemon::start_mqtt() {
  relays_.reset();
  mqtt_.reset();
  drivers::mqtt::ClientConfig c;
  c.uri = config_.mqtt.uri;
  c.client_id = config_.mqtt.client_id;
  c.username = config_.mqtt.username;
  c.password_file = config_.mqtt.password_file;
  c.ca_file = config_.mqtt.ca_file;
  c.cert_file = config_.mqtt.cert_file;
  c.key_file = config_.mqtt.key_file;
  c.keepalive = config_.mqtt.keepalive;
  c.status_topic = config_.mqtt.prefix + "/status";
  mqtt_ = std::make_unique<drivers::mqtt::Client>(c);
  relays_ = std::make_unique<drivers::mqtt::RelayManager>(
      config_.relays, config_.relay_timing,
      [this](const std::string& topic, const std::string& payload, int qos, bool retain) {
        return mqtt_->publish(topic, payload, qos, retain);
      });
  for (const auto& s : relays_->subscriptions()) mqtt_->subscribe(s);
  for (const auto& s : config_.sensors) mqtt_->subscribe(s.topic);
  mqtt_->subscribe(config_.mqtt.prefix + "/load/+/mode/set");
  if (config_.mqtt.discovery) mqtt_->subscribe(config_.mqtt.discovery_prefix + "/status");
  mqtt_->start();
}

void Daemon::reload() {
  signals::reload = false;
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}",
                     std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count()));
  log::info("SIGHUP: reloading {}", options_.config_path);
  const ConfigResult c = load_config(options_.config_path);
  if (!c.config) {
    log::error("reload refused, keeping the running config: {} has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    event("config", "", {rules::ReasonCode::none}, "reload refused: " + c.errors.front(), wall_now_s());
    notify("READY=1");
    return;
  }
  Config next = *c.config;
  if (options_.dry_run) next.dry_run = true;
  if (const auto missing = check_files(next); !missing.empty()) {
    log::error("reload refused, keeping the running config:");
    for (const auto& e : missing) log::error("  {}", e);
    event("config", "", {rules::ReasonCode::none}, "reload refused: " + missing.front(), wall_now_s());
    notify("READY=1");
    return;
  }
  try {
    if (!load(next, false)) {
      event("config", "", {rules::ReasonCode::none}, "reload refused: a relay or sensor reference is broken", wall_now_s());
      notify("READY=1");
      return;
    }
  } catch (const std::exception& e) {
    log::error("reload refused, keeping the running config: {}", e.what());
    notify("READY=1");
    return;
  }
  const bool mqtt_changed = YAML::Dump(YAML::Load(config_.text)["mqtt"]) != YAML::Dump(YAML::Load(next.text)["mqtt"]) ||
                            YAML::Dump(YAML::Load(config_.text)["relays"]) != YAML::Dump(YAML::Load(next.text)["relays"]) ||
                            YAML::Dump(YAML::Load(config_.text)["sensors"]) != YAML::Dump(YAML::Load(next.text)["sensors"]);
  // Reconnecting the devices costs a poll or two; only when their section changed (a SIGHUP
  // storm must not keep the Modbus links down).
  const bool devices_changed = YAML::Dump(YAML::Load(config_.text)["devices"]) != YAML::Dump(YAML::Load(next.text)["devices"]);
  const bool limits_changed = !(config_.charge_block_action == next.charge_block_action);
  config_ = next;
  if (devices_changed) start_devices();
  else if (limits_changed) build_charge_limits();
  if (mqtt_changed) {
    if (mqtt_) mqtt_->shutdown();
    start_mqtt();
  }
  published_.clear();
  published_health_.clear();
  publish_all_ = true;
  flush_pending_events();
  event("config", "", {rules::ReasonCode::none}, "reloaded " + options_.config_path, wall_now_s());
  notify("READY=1");
}

void Daemon::event(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                   const std::string& detail, std::int64_t wall_now, const rules::Snapshot* snap,
                   std::optional<bool> on) {
  Event e;
  e.at_unix_s = wall_now;
  e.kind = kind == "override_rejected" ? "override" : kind;
  if (!load_id.empty()) e.load_id = load_id;
  e.commanded_on = on;
  e.reason_code = static_cast<int>(r.code);
  e.reason = std::string(rules::code_name(r.code));
  e.detail = detail.empty() ? rules::describe(r) : detail;
  if (snap) {
    e.battery_v = decision_.battery.measured_v;
    e.voltage_source = std::string(source_name(snap->battery_v, decision_.battery.source));
    if (snap->pv_w) e.pv_w = snap->pv_w->value;
    if (snap->load_w) e.load_w = snap->load_w->value;
    if (const auto* t = source_at(snap->battery_temp_c, decision_.charge_temp_source)) e.temp_c = t->reading->value;
  }
  if (store_) store_->add_event(e);
  ++loop_.events;
  mqtt_publish(config_.mqtt.prefix + "/event", event_json(kind, load_id, r, e.detail, wall_now), false);
}

void Daemon::flush_pending_events() {
  for (const auto& detail : pending_events_) event("config", "", {rules::ReasonCode::none}, detail, wall_now_s());
  pending_events_.clear();
}

void Daemon::mqtt_publish(const std::string& topic, const std::string& payload, bool retain, int qos) {
  if (mqtt_ && mqtt_->connected()) mqtt_->publish(topic, payload, qos, retain);
}

void Daemon::handle_mode_command(const std::string& id, const std::string& payload, rules::SteadyTime now) {
  const auto load = std::find_if(loads_.begin(), loads_.end(), [&](const LoadRef& l) { return l.id == id; });
  if (load == loads_.end()) {
    // Ids are matched against the configured loads: nothing can be injected through a topic.
    log::warn("override for '{}' refused: no such load", id.substr(0, 40));
    event("override_rejected", "", {rules::ReasonCode::none}, "no load '" + id.substr(0, 40) + "'", wall_now_s());
    return;
  }
  const auto parsed = drivers::mqtt::parse_mode_command(payload);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    log::warn("{}: override refused: {}", load->name, *why);
    event("override_rejected", id, {rules::ReasonCode::none}, *why, wall_now_s());
    return;
  }
  const auto& cmd = std::get<drivers::mqtt::ModeCommand>(parsed);
  rules::LoadState& st = state_of(state_, *load);
  using Mode = drivers::mqtt::ModeCommand::Mode;
  st.override_.mode = cmd.mode == Mode::on ? rules::OverrideMode::on
                      : cmd.mode == Mode::off ? rules::OverrideMode::off
                                              : rules::OverrideMode::automatic;
  st.override_.until.reset();
  if (cmd.duration && cmd.mode != Mode::automatic) st.override_.until = now + *cmd.duration;
  override_changed_.insert(load->state_key);
  const std::string text = payload.substr(0, 40);
  log::info("{}: override {}", load->name, text);
  event("override", id, {cmd.mode == Mode::on ? rules::ReasonCode::override_on
                         : cmd.mode == Mode::off ? rules::ReasonCode::override_off
                                                 : rules::ReasonCode::none},
        "mode set to " + text, wall_now_s());
}

// The broker went away (or never answered): the outage starts now, with the first cause seen.
void Daemon::mqtt_down(const std::string& cause) {
  mqtt_health_.connected_since_unix_s.reset();
  if (mqtt_health_.down_since_unix_s) return;
  mqtt_health_.down_since_unix_s = wall_now_s();
  mqtt_health_.down_cause = cause;
  ++mqtt_health_.outages;
}

void Daemon::handle_mqtt(rules::SteadyTime now) {
  if (!mqtt_) return;
  while (const auto e = mqtt_->poll(std::chrono::milliseconds(0))) {
    switch (e->kind) {
      case drivers::mqtt::Event::Kind::connect_failed:
        ++mqtt_health_.failed_connects;
        mqtt_down(e->payload);
        // Once per change of cause: a broker that stays away must not fill the journal.
        if (e->payload != mqtt_failure_) {
          log::error("mqtt: {}; retrying with backoff (relays cannot be switched until then)", e->payload);
          event("alarm", "", {rules::ReasonCode::none}, "mqtt_unavailable: " + e->payload, wall_now_s());
        }
        mqtt_failure_ = e->payload;
        break;
      case drivers::mqtt::Event::Kind::connected:
        mqtt_failure_.clear();
        if (mqtt_health_.down_since_unix_s) {
          const std::int64_t wall = wall_now_s();
          mqtt_health_.last_outage = MqttHealth::Outage{*mqtt_health_.down_since_unix_s, wall, mqtt_health_.down_cause};
          mqtt_health_.down_since_unix_s.reset();
        }
        mqtt_health_.connected_since_unix_s = wall_now_s();
        log::info("mqtt: connected to {}", config_.mqtt.uri);
        if (!config_.dry_run) relays_->on_connected(now);
        publish_all_ = true;
        break;
      case drivers::mqtt::Event::Kind::lost:
        log::warn("mqtt: connection lost ({}); reconnecting", e->payload);
        mqtt_down("connection lost: " + e->payload);
        break;
      case drivers::mqtt::Event::Kind::message: {
        // A device that both switches and measures (a Tasmota plug with a DS18B20) sends its
        // power and its temperature in one tele/<t>/SENSOR: the relay takes its part, and the
        // message still goes on to the sensors below (they read only the topics configured).
        const bool relay_news = relays_->on_message(e->topic, e->payload, now);
        if (relay_news && !drivers::mqtt::is_sensor_topic(config_.sensors, e->topic)) break;
        if (const auto id = drivers::mqtt::mode_topic_load(config_.mqtt.prefix, e->topic)) {
          if (!e->retained) handle_mode_command(*id, e->payload, now);  // a retained command is stale
          break;
        }
        if (config_.mqtt.discovery && e->topic == config_.mqtt.discovery_prefix + "/status") {
          if (e->payload == "online") publish_all_ = true;  // Home Assistant restarted
          break;
        }
        // A retained sensor message (Tasmota SensorRetain) has no age: it may be hours old, and
        // stamping it "now" would make a dead sensor look alive. Only live messages count.
        if (e->retained) {
          log::debug("ignored a retained message on {}: its age is unknown", e->topic);
          break;
        }
        const auto r = drivers::mqtt::parse_sensor_message(config_.sensors, e->topic, e->payload);
        for (const auto& x : r.readings) readings_.set("sensor." + x.id, x.value, now);
        for (const auto& why : r.errors) log::warn("{}", why);
        break;
      }
    }
  }
}

void Daemon::listen_for_sensors(std::chrono::milliseconds bound) {
  if (config_.sensors.empty()) return;
  drivers::mqtt::Client client(side_client_config(config_.mqtt, "once"));
  for (const auto& s : config_.sensors) client.subscribe(s.topic);
  client.start();
  std::set<std::string> want;
  for (const auto& s : config_.sensors) want.insert(s.id);
  const auto until = Clock::now() + bound;
  while (!want.empty() && Clock::now() < until) {
    const auto e = client.poll(std::chrono::milliseconds(20));
    if (!e) continue;
    if (e->kind == drivers::mqtt::Event::Kind::connect_failed) {
      log::warn("once: mqtt: {}; deciding without the MQTT sensors", e->payload);
      break;
    }
    // As in the loop: a retained message has no age, so it is not a reading.
    if (e->kind != drivers::mqtt::Event::Kind::message || e->retained) continue;
    const auto r = drivers::mqtt::parse_sensor_message(config_.sensors, e->topic, e->payload);
    for (const auto& x : r.readings) {
      readings_.set("sensor." + x.id, x.value, Clock::now());
      want.erase(x.id);
    }
  }
  for (const auto& id : want) {
    log::info("once: no live message from sensor {} within {} s (Tasmota reports every TelePeriod)", id,
              bound.count() / 1000);
  }
  client.shutdown(std::chrono::milliseconds(500));
}

void Daemon::apply(rules::SteadyTime now) {
  for (const auto& l : loads_) {
    const auto& d = decision_for(decision_, l);
    if (d.changed) {
      // A probe says what told it the chargers hold back: the reason's numbers are the battery's.
      const bool probe = d.reason.code == rules::ReasonCode::probing_hidden_surplus;
      log::info("{}: {} ({}{})", l.name, on_off(d.on), rules::describe(d.reason),
                probe ? "; " + snap_.chargers_evidence : std::string());
    }
    if (relays_ && !config_.dry_run) {
      relays_->set_desired(l.id, d.on, now);
      if (l.kind == LoadRef::Kind::fan && profiles_.rules.zones[l.index].fan_speed_control) {
        relays_->set_speed(l.id, d.fan_speed * 100 / std::max(1, profiles_.rules.zones[l.index].fan_max_speed));
      }
    }
  }
  if (relays_) {
    relays_->tick(now);
    for (const auto& a : relays_->take_alarms()) {
      log::write(a.code == "relay_unconfirmed" || a.code == "relay_offline" ? log::Level::warn : log::Level::info,
                 fmt::format("relay {}: {}: {}", a.relay, a.code, a.detail));
      event("alarm", a.relay, {rules::ReasonCode::none}, a.code + ": " + a.detail, wall_now_s());
    }
  }
}

void Daemon::publish(const rules::Snapshot& snap, rules::SteadyTime now, bool everything) {
  if (!mqtt_ || !mqtt_->connected()) return;
  const std::string& p = config_.mqtt.prefix;
  if (everything && config_.mqtt.discovery) {
    DiscoveryOptions o{.prefix = p,
                       .discovery_prefix = config_.mqtt.discovery_prefix,
                       .node_id = "shackd_" + slug(config_.site_name),
                       .site_name = config_.site_name,
                       .version = SHACKD_VERSION,
                       .expire_after_s = std::max(10, static_cast<int>(rules::to_seconds(
                                                          profiles_.rules.site.electrical_stale_after))),
                       .devices = {}};
    for (const auto& w : workers_) o.devices.push_back(w->name());
    for (const auto& m : discovery_messages(profiles_, loads_, o)) mqtt_->publish(m.topic, m.payload, 1, true);
  }
  // Superseded every cycle: QoS 0 spares the broker and paho an acknowledgement each.
  mqtt_publish(p + "/state", state_json(snap, decision_, profiles_), true, 0);
  mqtt_publish(p + "/decision", decision_json(decision_, loads_), false, 0);
  loop_.store_queued = store_ ? store_->backlog() : 0;
  mqtt_publish(p + "/loop", loop_json(loop_), true, 0);
  if (std::string da = device_alarms_json(device_alarms_); everything || da != published_device_alarms_) {
    mqtt_publish(p + "/device_alarms", da, true);
    published_device_alarms_ = std::move(da);
  }
  // Health and energy: once a minute, and at once after a (re)connect.
  const bool health_due = everything || now - last_health_publish_ >= std::chrono::seconds(60);
  for (const auto& l : loads_) {
    const auto& d = decision_for(decision_, l);
    Published& pub = published_[l.id];
    const std::string topic = p + "/load/" + l.id;
    if (everything || pub.on != d.on) {
      mqtt_publish(topic + "/state", on_off(d.on), true);
      pub.on = d.on;
    }
    const std::string key = fmt::format("{}/{}", static_cast<int>(d.reason.code), static_cast<int>(d.reason.cause));
    if (everything || pub.reason_key != key) {
      mqtt_publish(topic + "/reason", reason_json(d.reason), true);
      pub.reason_key = key;
    }
    if (relays_) {
      const auto observed = relays_->status(l.id).observed;
      if (observed && (everything || pub.observed != observed)) {
        mqtt_publish(topic + "/observed", on_off(*observed), true);
        pub.observed = observed;
      }
    }
    if (health_due && !energy_.day().empty()) {
      const auto e = energy_.totals().find(l.state_key);
      mqtt_publish(topic + "/energy",
                   energy_json(energy_.day(), e == energy_.totals().end() ? LoadEnergy{} : e->second,
                               rated_draw_w(profiles_.rules, l)),
                   true);
    }
    const auto& ov = state_of(state_, l).override_;
    const std::string mode = mode_name(ov.mode);
    if (everything || pub.mode != mode) {
      mqtt_publish(topic + "/mode", mode, true);
      pub.mode = mode;
    }
  }
  bool device_changed = false;
  for (const auto& w : workers_) {
    const auto& h = health_[w->name()];
    const bool ok = h.consecutive_failures == 0 && h.last_success.has_value();
    const auto last = published_health_.find(w->name());
    // A sensor that stops or starts reporting "not available", or a refused register, is news.
    auto map = std::pair(h.refused, h.not_available);
    const bool map_changed = std::exchange(published_map_[w->name()], map) != map;
    if (health_due || map_changed || last == published_health_.end() || last->second != ok) {
      mqtt_publish(p + "/device/" + w->name() + "/health", health_json(h, now), true);
      device_changed = device_changed || last == published_health_.end() || last->second != ok;
      published_health_[w->name()] = ok;
    }
  }
  if (health_due || device_changed) {
    mqtt_publish(p + "/health", site_health_json(mqtt_health_, published_health_, loop_.store_queued, loop_.store_errors), true);
  }
  if (health_due) last_health_publish_ = now;
}

void Daemon::persist(const rules::Snapshot& snap, rules::SteadyTime now, std::int64_t wall_now) {
  TelemetrySample s;
  s.battery_v = decision_.battery.measured_v;
  s.soc_pct = decision_.battery.soc_pct;
  if (snap.pv_w) s.pv_w = snap.pv_w->value;
  if (snap.load_w) s.load_w = snap.load_w->value;
  if (const auto* t = source_at(snap.battery_temp_c, decision_.charge_temp_source)) s.battery_temp_c = t->reading->value;
  for (std::size_t i = 0; i < profiles_.rules.zones.size() && i < snap.zone_temp_c.size(); ++i) {
    s.zone_temps_c.emplace_back(profiles_.rules.zones[i].name,
                                snap.zone_temp_c[i] ? std::optional<double>(snap.zone_temp_c[i]->value) : std::nullopt);
  }
  s.journal_header = journal_header_;
  s.journal_lines = std::move(journal_lines_);
  journal_lines_.clear();
  store_->add_sample(wall_now, s);
  for (const auto& l : loads_) {
    const auto it = rows_.find(l.state_key);
    const bool ov = override_changed_.count(l.state_key) > 0;
    LoadStateRow row = persist_load(l.state_key, state_of(state_, l), it == rows_.end() ? nullptr : &it->second, now,
                                    wall_now, ov);
    store_->set_load_state(row);
    rows_[l.state_key] = row;
  }
  override_changed_.clear();
  try {
    store_->flush(wall_now);
    if (now - last_prune_ >= std::chrono::hours(1)) {
      store_->prune(wall_now, config_.telemetry_days, config_.events_days, 500, config_.journal_days);
      last_prune_ = now;
    }
  } catch (const db::Error& e) {
    // Disk full, read-only or locked: control goes on, the queue waits for the next try.
    ++loop_.store_errors;
    log::warn("{} ({} item(s) kept queued)", e.what(), store_->queued());
    mqtt_publish(config_.mqtt.prefix + "/event",
                 event_json("alarm", "", {rules::ReasonCode::none}, std::string("store_error: ") + e.what(), wall_now), false);
  }
}

std::string Daemon::status_line() const {
  const auto& b = decision_.battery;
  int on = 0;
  for (const auto& l : loads_) on += decision_for(decision_, l).on;
  std::string devices;
  for (const auto& [name, h] : health_) {
    devices += fmt::format(", {} {}", name, h.consecutive_failures == 0 && h.last_success ? "ok" : "DOWN");
  }
  std::string mqtt = ", mqtt ok";
  if (!mqtt_) mqtt.clear();
  else if (!mqtt_failure_.empty()) mqtt = ", MQTT DOWN: " + mqtt_failure_;
  else if (!mqtt_->connected()) mqtt = ", MQTT DOWN";
  return fmt::format("{} ({}), {}/{} loads on{}{}{}",
                     b.measured_v ? fmt::format("{:.2f} V", *b.measured_v) : std::string("no voltage"),
                     b.soc_pct ? fmt::format("{:.0f} %", *b.soc_pct) : std::string("-"), on, loads_.size(), devices,
                     mqtt, config_.dry_run ? ", dry run" : "");
}

// What the rules are about to be given, for `shackd replay`: the snapshot and every override in
// force (the state before the rules run is what they see).
void Daemon::journal_cycle(const rules::Snapshot& snap) {
  if (config_.journal_days == 0) return;  // the owner turned it off: replay uses minute averages
  std::vector<JournalOverride> overrides;
  for (const auto& l : loads_) {
    const auto& ov = state_of(state_, l).override_;
    if (ov.mode == rules::OverrideMode::automatic) continue;
    std::optional<std::int64_t> left;
    if (ov.until) left = std::chrono::duration_cast<std::chrono::milliseconds>(*ov.until - snap.now).count();
    overrides.push_back({l.state_key, ov.mode, left});
  }
  const auto wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  journal_lines_ = std::exchange(journal_started_, false) ? "S\n" : "";
  journal_lines_ += journal_cycle_line(snap, wall_ms, overrides);
}

void Daemon::cycle() {
  if (signals::reload) reload();
  const auto started = Clock::now();
  // 1. Poll every device at once; a slow one costs at most its own timeout.
  std::chrono::milliseconds longest{0};
  if (config_.victron.enabled) longest = std::max(longest, config_.victron.timeout);
  if (config_.solark.enabled) longest = std::max(longest, config_.solark.timeout);
  for (auto& w : workers_) w->request();
  const auto deadline = started + longest + std::chrono::milliseconds(250);
  for (auto& w : workers_) {
    if (auto r = w->wait(deadline)) {
      readings_.update(*r);
      for (const auto& inv : r->invalid) log::warn("{}: dropped {}: {}", w->name(), inv.name, inv.why);
    }
    const auto h = w->health();
    const bool was_ok = health_ok_.count(w->name()) ? health_ok_[w->name()] : true;
    const bool ok = h.consecutive_failures == 0 && h.last_success.has_value();
    if (was_ok != ok) {
      log::write(ok ? log::Level::info : log::Level::warn,
                 w->name() + (ok ? std::string(": reading again") : ": not answering: " + h.last_error));
      event("alarm", "", {ok ? rules::ReasonCode::none : rules::ReasonCode::stale_input},
            w->name() + (ok ? ": reading again" : ": not answering: " + h.last_error), wall_now_s());
    }
    log_map_changes(w->name(), health_[w->name()], h);
    health_[w->name()] = h;
    health_ok_[w->name()] = ok;
  }
  const auto now = Clock::now();
  const auto wall = wall_now_s();
  // 2. What came in on MQTT: relay states, sensors, overrides.
  handle_mqtt(now);
  // 3. The snapshot, 4. the rules.
  snap_ = drivers::build_snapshot(readings_, mapping_, now, local_minute(wall));
  const rules::Snapshot& snap = snap_;
  journal_cycle(snap);
  rules::decide(snap, profiles_.rules, state_, decision_);
  state_ = decision_.next;
  // Alarms: an event when one appears or clears, not every cycle.
  std::set<int> alarms;
  for (const auto& a : decision_.alarms) {
    alarms.insert(static_cast<int>(a.code));
    if (!active_alarms_.count(static_cast<int>(a.code))) {
      std::string text = rules::describe(a);
      if (a.code == rules::ReasonCode::voltage_fallback) {
        text += fmt::format(": {} is stale, deciding on {}", source_label(snap.battery_v, decision_.battery.stale_preferred),
                            source_label(snap.battery_v, decision_.battery.source));
      }
      log::warn("alarm: {}", text);
      event("alarm", "", a, text, wall, &snap);
    }
  }
  active_alarms_ = alarms;
  watch_device_alarms(now, wall);
  if (decision_.block_charging != charge_blocked_) {
    charge_blocked_ = decision_.block_charging;
    log::write(charge_blocked_ ? log::Level::warn : log::Level::info, rules::describe(decision_.charge_reason));
    event("alarm", "", decision_.charge_reason, "", wall, &snap);
  }
  charge_block_actuate(wall);
  for (const auto& l : loads_) {
    const auto& d = decision_for(decision_, l);
    if (d.changed) {
      const bool probe = d.reason.code == rules::ReasonCode::probing_hidden_surplus;
      event("actuation", l.id, d.reason, probe ? snap.chargers_evidence : std::string(), wall, &snap, d.on);
    }
  }
  // 5. Apply, 6. publish, 7. persist.
  if (!options_.once) {
    apply(now);
    account_energy(now, wall);
    publish(snap, now, publish_all_);
    publish_all_ = false;
  }
  if (!options_.once) persist(snap, now, wall);
  if (!ready_) {
    ready_ = true;
    notify("READY=1");
    log::info("first decision: {}", status_line());
  }
  notify("STATUS=" + status_line() + "\nWATCHDOG=1");
}

void Daemon::account_energy(rules::SteadyTime now, std::int64_t wall) {
  const auto day = local_day(wall);
  if (!day) return;  // no trusted date yet to count into
  std::vector<Draw> draws;
  for (const auto& l : loads_) {
    Draw d{l.state_key, decision_for(decision_, l).on, std::nullopt, rated_draw_w(profiles_.rules, l)};
    if (relays_ && relays_->has(l.id)) {
      // What the relay says beats what was commanded; a meter's word, while fresh (Tasmota's
      // TelePeriod is 300 s by default), beats the rating.
      const auto& st = relays_->status(l.id);
      if (st.observed) d.on = *st.observed;
      // A reading from before the relay last switched is about the other state: a plug that
      // reports every 300 s would count a fresh start at 0 W for minutes.
      const bool current = st.power_at && (!st.observed_since || *st.power_at >= *st.observed_since);
      if (st.power_w && current && now - *st.power_at <= std::chrono::minutes(10)) d.metered_w = st.power_w;
    }
    draws.push_back(std::move(d));
  }
  const std::string counting = energy_.day();
  const auto finished = energy_.tick(*day, now, draws);
  if (!store_) return;
  if (finished) {
    for (const auto& [id, e] : finished->totals) store_->set_energy(finished->day, id, e);
  }
  if (energy_.day() != counting) {
    // A new day, or the first trusted date after a start (a Pi without a clock waits for NTP):
    // carry on from what is stored for it rather than write a fresh count over it.
    try {
      if (auto stored = store_->energy_on(*day); !stored.empty()) energy_.restore(*day, std::move(stored));
    } catch (const db::Error& e) {
      log::warn("energy of {}: cannot read what is stored ({}); counting from now", *day, e.what());
    }
  }
  for (const auto& [id, e] : energy_.totals()) store_->set_energy(energy_.day(), id, e);
}

// The devices' own alarms: an event when one appears or clears (a BMS's "no charging" is news,
// not shackd's decision: it already stops the chargers).
void Daemon::watch_device_alarms(rules::SteadyTime now, std::int64_t wall) {
  drivers::DeviceStatus status;
  for (const auto& w : workers_) {
    drivers::add_device_status(status, w->name(), w->units(), readings_, now, mapping_.fresh_within);
  }
  for (const auto& change : device_alarms_.update(status)) {
    const std::string text = describe(change);
    log::write(change.raised && !change.alarm.warning ? log::Level::warn : log::Level::info, "device alarm: " + text);
    event("alarm", "", {rules::ReasonCode::none}, text, wall);
  }
}

// safety.charge_block_action: the charger limits held at 0 A while charging is blocked (see
// daemon/loop/charge_limit.hpp). Built with the devices; a limit the config no longer names but
// the database says is still at 0 A is kept until it has been put back.
void Daemon::build_charge_limits() {
  charge_limits_.clear();
  if (config_.dry_run || options_.once || !db_) return;
  std::map<std::string, ChargeLimitRow> rows;
  try {
    rows = load_charge_limits(*db_);
  } catch (const db::Error& e) {
    log::warn("charge limits: cannot read their state, assuming none is held at 0 A: {}", e.what());
  }
  const auto worker = [&](const std::string& name) -> PollWorker* {
    for (auto& w : workers_) {
      if (w->name() == name) return w.get();
    }
    return nullptr;
  };
  const auto add = [&](ChargeLimitSpec spec, const std::string& device, bool configured) {
    PollWorker* w = worker(device);
    const auto row = rows.find(spec.name);
    const bool held = row != rows.end() && row->second.applied;
    if (!w || (!configured && !held)) return;
    ChargeLimit limit(std::move(spec), *w, [this](const std::string& name, const ChargeLimitRow& r) {
      try {
        save_charge_limit(*db_, name, r, wall_now_s());
      } catch (const db::Error& e) {
        log::warn("charge limit {}: cannot record its state ({}); a restart now would not know to put it back", name,
                  e.what());
      }
    });
    if (row != rows.end()) limit.resume(row->second);
    if (held) log::info("{}: held at 0 A when shackd stopped; will put back {}", limit.spec().label, row->second.saved);
    charge_limits_.push_back({std::move(limit), !configured});
  };
  // DVCC max charge current: unit 100 register 2705, A, -1 = no limit (attributes.csv, settings).
  add({"dvcc", "DVCC max charge current (GX 2705)", config_.victron.system_unit, 2705, -1}, "victron",
      config_.charge_block_action.dvcc);
  // Sol-Ark battery max charge current: holding register 210, A, written with function 16
  // (registers.md §2.8).
  add({"solark_charge_limit", "Sol-Ark battery max charge current (210)", config_.solark.unit, 210,
       static_cast<std::int16_t>(config_.solark.max_charge_a.value_or(0))},
      "solark", config_.charge_block_action.solark && config_.solark.max_charge_a);
}

void Daemon::charge_block_actuate(std::int64_t wall) {
  for (auto& [limit, retiring] : charge_limits_) {
    for (const auto& n : limit.step(charge_blocked_ && !retiring)) {
      if (n.failure) log::warn("{}: the write failed, retrying each cycle: {}", limit.spec().label, n.text);
      else log::write(charge_blocked_ ? log::Level::warn : log::Level::info, fmt::format("{}: {}", limit.spec().label, n.text));
      event("alarm", "", n.failure ? rules::Reason{rules::ReasonCode::none} : decision_.charge_reason, n.text, wall);
    }
  }
}

void Daemon::shutdown() {
  notify("STOPPING=1");
  log::info("stopping");
  const auto now = Clock::now();
  if (relays_ && !config_.dry_run && config_.shutdown_policy == ShutdownPolicy::miners_off) {
    for (const auto& l : loads_) {
      if (l.kind == LoadRef::Kind::miner) relays_->set_desired(l.id, false, now);
    }
    log::info("shutdown policy miners_off: miners switched off");
  }
  if (store_) {
    event("lifecycle", "", {rules::ReasonCode::none}, "stopped", wall_now_s());
    try {
      store_->flush(wall_now_s(), true);
    } catch (const db::Error& e) {
      log::error("{} (the last {} item(s) are lost)", e.what(), store_->queued());
    }
  }
  if (mqtt_) mqtt_->shutdown();  // publishes offline itself: a clean disconnect suppresses the will
  workers_.clear();
  store_.reset();
  db_.reset();  // the last close checkpoints the WAL
}

int Daemon::run() {
  event("lifecycle", "", {rules::ReasonCode::none}, std::string("started ") + SHACKD_VERSION, wall_now_s());
  auto next = Clock::now();
  while (!signals::stop) {
    const auto started = Clock::now();
    try {
      cycle();
    } catch (const std::exception& e) {
      // Never let one bad cycle end the controller: the relays keep their last commanded state
      // (and their dead-man), the next cycle starts fresh from the devices.
      log::error("cycle failed, continuing: {}", e.what());
    }
    next += config_.interval;
    const auto now = Clock::now();
    const double took_ms = std::chrono::duration<double, std::milli>(now - started).count();
    ++loop_.cycles;
    loop_.last_ms = took_ms;
    loop_.longest_ms = std::max(loop_.longest_ms, took_ms);
    if (next < now) {
      // A long cycle: start the next at once, without a burst. Ticks passed by more than half an
      // interval count as missed (a stalled machine counts too: this is wall-to-wall monotonic).
      const auto late = now - next;
      const auto missed = (late + config_.interval / 2) / config_.interval;
      if (missed > 0) {
        loop_.missed += static_cast<std::uint64_t>(missed);
        log::warn("cycle took {:.0f} ms: {} tick(s) of {} ms missed", took_ms, missed, config_.interval.count());
      }
      next = now;
    }
    // One sleep to the next tick. A signal interrupts it (the handlers are installed without
    // SA_RESTART), so SIGTERM acts at once; waking every few ms would cost CPU. SIGHUP waits for
    // the next tick: the reload runs at the top of the cycle, so a storm of them costs one
    // reload per cycle and never an extra poll.
    while (!signals::stop && Clock::now() < next) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - Clock::now());
      if (left.count() <= 0) break;
      timespec ts{static_cast<std::time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  log::info("loop: {} cycles, {} missed, longest {:.1f} ms, {} events, {} store errors", loop_.cycles, loop_.missed,
            loop_.longest_ms, loop_.events, loop_.store_errors);
  shutdown();
  return kExOk;
}

std::string Daemon::once_table() const {
  std::string out = fmt::format("battery {} (source {}: {}, {}), SOC {} (estimated)\n",
                                decision_.battery.measured_v ? fmt::format("{:.2f} V", *decision_.battery.measured_v) : "n/a",
                                source_name(snap_.battery_v, decision_.battery.source),
                                source_label(snap_.battery_v, decision_.battery.source), band_name(decision_.battery.band),
                                decision_.battery.soc_pct ? fmt::format("{:.0f} %", *decision_.battery.soc_pct) : "n/a");
  // "charging allowed: 6.0 °C (limit 0.0 °C)" says it already; a block says why.
  out += fmt::format("{}{} ({})\n", decision_.block_charging ? "charging BLOCKED: " : "",
                     rules::describe(decision_.charge_reason), charge_temp_from(snap_, decision_, profiles_.rules));
  // The other decision inputs: a PV or load sum with a part missing is a lower bound ("at least").
  const auto measured = [](const std::optional<rules::Reading>& r, bool partial, const char* unit) {
    return r ? fmt::format("{}{:.0f} {}", partial ? "at least " : "", r->value, unit) : std::string("missing");
  };
  const auto& held = snap_.chargers_limiting;
  out += fmt::format("inputs: PV {}, load {}, battery current {}, chargers holding PV back: {}\n",
                     measured(snap_.pv_w, snap_.pv_w_partial, "W"), measured(snap_.load_w, snap_.load_w_partial, "W"),
                     snap_.battery_a ? fmt::format("{:.1f} A", snap_.battery_a->value) : std::string("missing"),
                     !held ? "unknown" : held->value > 0.5 ? "yes: " + snap_.chargers_evidence : std::string("no"));
  for (const auto& a : device_alarms_.active()) {
    out += fmt::format("device {}: {} {}\n", a.second.warning ? "warning" : "alarm", a.first, a.second.text);
  }
  out += fmt::format("{:<22} {:<18} {:<5} {}\n", "load", "relay", "want", "reason");
  for (const auto& l : loads_) {
    const auto& d = decision_for(decision_, l);
    out += fmt::format("{:<22} {:<18} {:<5} {}\n", l.name, l.id, on_off(d.on), rules::describe(d.reason));
  }
  for (const auto& a : decision_.alarms) out += "alarm: " + rules::describe(a) + "\n";
  for (const auto& line : effective_threshold_lines(profiles_)) out += "limits: " + line + "\n";
  if (decision_.block_charging) out += "charging blocked: " + rules::describe(decision_.charge_reason) + "\n";
  return out;
}

}  // namespace shackd

#include "daemon/metrics/collect.hpp"

#include <chrono>

#include "daemon/publish/publish.hpp"
#include "daemon/publish/render.hpp"
#include "drivers/text/utf8.hpp"
#include "rules/reason.hpp"

namespace shackd::metrics {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Names from the config and the devices are the owner's text: valid UTF-8, bounded, on one line.
std::string label(const std::string& s) { return drivers::text::clean_utf8(s, 120); }

double age_s(const rules::Reading& r, rules::SteadyTime now) {
  return std::chrono::duration<double>(now - r.as_of).count();
}

Family gauge(std::string name, std::string help) { return {std::move(name), std::move(help), Type::gauge, {}}; }
Family counter(std::string name, std::string help) { return {std::move(name), std::move(help), Type::counter, {}}; }

void battery(std::vector<Family>& out, const CycleView& v, rules::SteadyTime now) {
  const auto& b = v.decision.battery;
  Family volts = gauge("shackd_battery_voltage_volts", "The battery's voltage as each source measures it");
  Family ages = gauge("shackd_input_age_seconds", "Time since each input was last read");
  Family temps = gauge("shackd_battery_temperature_celsius", "The battery's temperature as each source measures it");
  for (const auto& s : v.snap.battery_v) {
    if (!s.reading) continue;
    volts.add(s.reading->value, {{"source", label(s.name)}});
    ages.add(age_s(*s.reading, now), {{"input", "battery_v:" + label(s.name)}});
  }
  for (const auto& s : v.snap.battery_temp_c) {
    if (!s.reading) continue;
    temps.add(s.reading->value, {{"source", label(s.name)}});
    ages.add(age_s(*s.reading, now), {{"input", "battery_temp_c:" + label(s.name)}});
  }
  const auto single = [&](const std::optional<rules::Reading>& r, const char* input, Family f) {
    if (!r) return;
    f.add(r->value);
    out.push_back(std::move(f));
    ages.add(age_s(*r, now), {{"input", input}});
  };
  single(v.snap.battery_a, "battery_a", gauge("shackd_battery_current_amperes", "Battery current, + charging"));
  single(v.snap.pv_w, "pv_w", gauge("shackd_pv_power_watts", "PV production"));
  single(v.snap.load_w, "load_w", gauge("shackd_load_power_watts", "AC consumption, the switched loads included"));
  for (std::size_t i = 0; i < v.snap.zone_temp_c.size() && i < v.profiles.rules.zones.size(); ++i) {
    if (const auto& r = v.snap.zone_temp_c[i]) {
      ages.add(age_s(*r, now), {{"input", "zone_temp_c:" + label(v.profiles.rules.zones[i].name)}});
    }
  }
  Family zone = gauge("shackd_zone_temperature_celsius", "Each zone's air temperature");
  for (std::size_t i = 0; i < v.snap.zone_temp_c.size() && i < v.profiles.rules.zones.size(); ++i) {
    if (const auto& r = v.snap.zone_temp_c[i]) zone.add(r->value, {{"zone", label(v.profiles.rules.zones[i].name)}});
  }
  out.push_back(std::move(volts));
  out.push_back(std::move(temps));
  out.push_back(std::move(zone));
  out.push_back(std::move(ages));
  if (b.measured_v) {
    out.push_back(gauge("shackd_battery_decided_voltage_volts", "The voltage the decision was made on (the first fresh source)")
                      .add(*b.measured_v));
  }
  if (b.soc_pct) {
    out.push_back(gauge("shackd_battery_soc_estimate_ratio", "State of charge from the voltage curve: shown, never decided on")
                      .add(*b.soc_pct / 100.0));
  }
  // A state set: one series per band, 1 for the one the battery is in (OpenMetrics' StateSet,
  // written as a gauge, which both formats read).
  Family band = gauge("shackd_battery_band", "The band of thresholds the battery is in (1 for the current one)");
  static constexpr rules::Band kBands[] = {rules::Band::unknown,       rules::Band::shutdown,      rules::Band::critical,
                                           rules::Band::low,           rules::Band::recovering,    rules::Band::below_optimal,
                                           rules::Band::optimal,       rules::Band::above_optimal, rules::Band::floating,
                                           rules::Band::absorption,    rules::Band::full};
  for (const auto bd : kBands) band.add(bd == b.band ? 1 : 0, {{"band", std::string(band_name(bd))}});
  out.push_back(std::move(band));
  out.push_back(gauge("shackd_charging_blocked", "1 while the chargers are held off (a cold battery, no temperature)")
                    .add(v.decision.block_charging ? 1 : 0));
  Family alarms = gauge("shackd_alarm_active", "The controller's active alarms, by code (present only while active)");
  for (const auto& a : v.decision.alarms) {
    Labels l{{"code", std::string(rules::code_name(a.code))}};
    bool seen = false;
    for (const auto& s : alarms.samples) seen = seen || s.labels == l;
    if (!seen) alarms.add(1, std::move(l));
  }
  out.push_back(std::move(alarms));
  Family device_alarms = gauge("shackd_device_alarm_active", "The devices' own alarms (a BMS's, a charger's), by id");
  for (const auto& [id, a] : v.device_alarms.active()) {
    device_alarms.add(1, {{"device", label(a.device)}, {"alarm", label(id)}, {"severity", a.warning ? "warning" : "alarm"}});
  }
  out.push_back(std::move(device_alarms));
}

void loads(std::vector<Family>& out, const CycleView& v, const std::map<std::string, double>& joules) {
  Family on = gauge("shackd_load_on", "1 while the controller wants the load on");
  Family observed = gauge("shackd_load_observed_on", "The relay's own report: 1 on, 0 off (absent until it reports)");
  Family unconfirmed = gauge("shackd_load_relay_unconfirmed", "1 while the relay has not confirmed the last command");
  Family available = gauge("shackd_load_relay_available", "The relay's availability topic: 1 online, 0 offline");
  Family reason = gauge("shackd_load_reason", "Why the load is as it is: 1 for the current reason code");
  Family target = gauge("shackd_load_power_target_watts", "A miner's power target in force");
  Family relay_w = gauge("shackd_load_relay_power_watts", "The load's draw where its relay meters it");
  Family energy = counter("shackd_load_energy_joules", "Energy each load drew since the process started");
  Family unconfirmed_n = gauge("shackd_relays_unconfirmed", "Relays that have not confirmed the last command");
  double n_unconfirmed = 0;
  for (const auto& l : v.loads) {
    const auto& d = decision_for(v.decision, l);
    const Labels id{{"load", label(l.id)}, {"kind", kind_name(l.kind)}};
    on.add(d.on ? 1 : 0, id);
    reason.add(1, {{"load", label(l.id)}, {"reason", std::string(rules::code_name(d.reason.code))}});
    if (d.target_w) target.add(*d.target_w, id);
    if (const auto it = joules.find(l.id); it != joules.end()) energy.add(it->second, id);
    if (v.relays && v.relays->has(l.id)) {
      const auto& s = v.relays->status(l.id);
      if (s.observed) observed.add(*s.observed ? 1 : 0, id);
      if (s.available) available.add(*s.available ? 1 : 0, id);
      unconfirmed.add(s.unconfirmed ? 1 : 0, id);
      n_unconfirmed += s.unconfirmed ? 1 : 0;
      if (s.power_w) relay_w.add(*s.power_w, id);
    }
  }
  for (Family* f : {&on, &observed, &unconfirmed, &available, &reason, &target, &relay_w, &energy}) out.push_back(std::move(*f));
  if (v.relays) {
    out.push_back(unconfirmed_n.add(n_unconfirmed));
    out.push_back(counter("shackd_relay_commands", "Commands sent to the relays").add(static_cast<double>(v.relays->commands_sent())));
  }
  Family miner_w = gauge("shackd_miner_power_watts", "What each miner says it draws (its API)");
  Family miner_t = gauge("shackd_miner_temperature_celsius", "Each miner's hottest sensor (its API)");
  for (std::size_t i = 0; i < v.profiles.miners.size(); ++i) {
    const Labels id{{"load", label(v.profiles.miners[i].relay_id)}};
    if (i < v.snap.miner_w.size() && v.snap.miner_w[i]) miner_w.add(v.snap.miner_w[i]->value, id);
    if (i < v.snap.miner_temp_c.size() && v.snap.miner_temp_c[i]) miner_t.add(v.snap.miner_temp_c[i]->value, id);
  }
  out.push_back(std::move(miner_w));
  out.push_back(std::move(miner_t));
}

void devices(std::vector<Family>& out, const CycleView& v, rules::SteadyTime now) {
  Family up = gauge("shackd_device_up", "1 while the device answers its polls");
  Family requests = counter("shackd_device_requests", "Modbus requests sent to the device");
  Family failed = counter("shackd_device_failed_requests", "Modbus requests that failed");
  Family reconnects = counter("shackd_device_reconnects", "Connections made again to the device");
  Family since = gauge("shackd_device_last_success_age_seconds", "Time since the device last answered");
  for (const auto& [name, h] : v.devices) {
    if (!h) continue;
    const Labels l{{"device", label(name)}};
    up.add(h->consecutive_failures == 0 && h->last_success ? 1 : 0, l);
    requests.add(static_cast<double>(h->requests), l);
    failed.add(static_cast<double>(h->failed_requests), l);
    reconnects.add(static_cast<double>(h->reconnects), l);
    if (h->last_success) since.add(std::chrono::duration<double>(now - *h->last_success).count(), l);
  }
  for (Family* f : {&up, &requests, &failed, &reconnects, &since}) out.push_back(std::move(*f));
}

void loop(std::vector<Family>& out, const CycleView& v, const SiteInfo& site) {
  const LoopStats& s = v.loop;
  out.push_back(counter("shackd_cycles", "Decision cycles run").add(static_cast<double>(s.cycles)));
  out.push_back(counter("shackd_cycle_missed_ticks", "Ticks missed: a cycle started more than half an interval late")
                    .add(static_cast<double>(s.missed)));
  out.push_back(counter("shackd_cycles_undecided", "Cycles without a decision (no watchdog ping)").add(static_cast<double>(s.undecided)));
  out.push_back(gauge("shackd_cycle_duration_seconds", "The last cycle's duration").add(s.last_ms / 1000.0));
  out.push_back(gauge("shackd_cycle_duration_max_seconds", "The longest cycle since the start").add(s.longest_ms / 1000.0));
  out.push_back(gauge("shackd_last_cycle_timestamp_seconds", "Wall time of the last cycle (Unix seconds)")
                    .add(static_cast<double>(site.wall_s)));
  Family side = counter("shackd_side_job_failures", "Side jobs of a cycle that failed (the decision went on)");
  for (std::size_t i = 0; i < kSideJobs; ++i) {
    side.add(static_cast<double>(s.failed[i]), {{"side_job", side_job_name(static_cast<SideJob>(i))}});
  }
  out.push_back(std::move(side));
  out.push_back(counter("shackd_events", "Events recorded (transitions, alarms)").add(static_cast<double>(s.events)));
  out.push_back(gauge("shackd_store_queue_items", "Events and states waiting for the database").add(static_cast<double>(s.store_queued)));
  out.push_back(counter("shackd_store_errors", "Failed database flushes (disk full, read-only, locked)")
                    .add(static_cast<double>(s.store_errors)));
  out.push_back(counter("shackd_log_lines_lost", "Log lines that could not be written").add(static_cast<double>(s.log_lost)));
  out.push_back(counter("shackd_mqtt_messages_dropped", "MQTT messages not handled (past a cycle's share, or a full queue)")
                    .add(static_cast<double>(s.mqtt_dropped + s.mqtt_dropped_by_link)));
  out.push_back(counter("shackd_mqtt_messages_refused", "MQTT messages refused unread (too large)").add(static_cast<double>(s.mqtt_refused)));
  const MqttHealth& m = v.mqtt;
  out.push_back(gauge("shackd_mqtt_connected", "1 while connected to the broker").add(m.connected_since_unix_s ? 1 : 0));
  out.push_back(counter("shackd_mqtt_outages", "Broker connections lost or never made").add(static_cast<double>(m.outages)));
  out.push_back(counter("shackd_mqtt_failed_connects", "Broker connection attempts refused or unanswered")
                    .add(static_cast<double>(m.failed_connects)));
  // The broker's bridges to a central broker, as its $SYS says (the uplink; none without one).
  Family bridge_up = gauge("shackd_uplink_connected", "1 while the site broker's bridge to the central broker is connected");
  Family bridge_changes = counter("shackd_uplink_changes", "The bridge's connects and drops seen since shackd started");
  for (const auto& [name, b] : m.bridges) {
    bridge_up.add(b.connected ? 1 : 0, {{"bridge", label(name)}});
    bridge_changes.add(static_cast<double>(b.changes), {{"bridge", label(name)}});
  }
  out.push_back(std::move(bridge_up));
  out.push_back(std::move(bridge_changes));
}

}  // namespace

void Collector::count_energy(const CycleView& v) {
  const bool new_day = v.energy.day() != day_;
  for (const auto& l : v.loads) {
    const auto it = v.energy.totals().find(l.state_key);
    const double wh = it == v.energy.totals().end() ? 0 : it->second.wh;
    double& last = last_wh_[l.state_key];
    // A new day starts the meter from zero; the first look at a day restored from the store
    // counts nothing (that energy was before this process).
    const double delta = day_.empty() ? 0 : new_day ? wh : wh - last;
    joules_[l.id] += std::max(0.0, delta) * 3600.0;
    last = wh;
  }
  day_ = v.energy.day();
}

std::vector<Family> Collector::collect(const CycleView& v, const SiteInfo& site, rules::SteadyTime now) {
  count_energy(v);
  std::vector<Family> out;
  out.reserve(64);
  out.push_back(gauge("shackd_build_info", "The running version").add(1, {{"version", label(site.version)}}));
  out.push_back(gauge("shackd_site_info", "The site's id (fixed once, kept across renames) and name")
                    .add(1, {{"site_id", label(site.site_id)}, {"site_name", label(site.site_name)}}));
  out.push_back(gauge("process_start_time_seconds", "Start time of the process since the epoch")
                    .add(static_cast<double>(site.started_unix_s)));
  out.push_back(gauge("shackd_dry_run", "1 in a dry run: decisions without relay commands").add(site.dry_run ? 1 : 0));
  battery(out, v, now);
  loads(out, v, joules_);
  devices(out, v, now);
  loop(out, v, site);
  return out;
}

}  // namespace shackd::metrics

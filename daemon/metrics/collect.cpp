#include "daemon/metrics/collect.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "daemon/vocab/ac_figures.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/vocab/render.hpp"
#include "drivers/text/utf8.hpp"
#include "rules/profile.hpp"
#include "rules/reason.hpp"

namespace shackd::metrics {

namespace {

constexpr std::size_t kMaxLabelBytes = 120;

// Names from the config and the devices are the owner's text: valid UTF-8, bounded. The text
// itself when it is both (no copy: the loop's thread fills a frame without allocating), else a
// cleaned copy in `scratch`.
std::string_view label(std::string_view s, std::string& scratch) {
  if (s.size() <= kMaxLabelBytes && drivers::text::valid_utf8(s)) return s;
  scratch = drivers::text::clean_utf8(s, kMaxLabelBytes);
  return scratch;
}

// "prefix:" and a label, in `scratch`.
std::string_view prefixed(std::string_view prefix, std::string_view s, std::string& scratch) {
  std::string other;
  const auto name = label(s, other);
  scratch.assign(prefix);
  scratch.append(name);
  return scratch;
}

double age_s(const rules::Reading& r, rules::SteadyTime now) {
  return std::chrono::duration<double>(now - r.as_of).count();
}

double to_double(std::uint64_t n) { return static_cast<double>(n); }

void battery(FrameWriter& w, const CycleView& v, rules::SteadyTime now, LabelScratch& x) {
  const auto& s = v.snap;
  const auto& zones = v.profiles.rules.zones;
  const std::size_t n_zones = std::min(s.zone_temp_c.size(), zones.size());
  w.family("shackd_battery_voltage_volts", "The battery's voltage as each source measures it", Type::gauge);
  for (const auto& src : s.battery_v) {
    if (src.reading) w.sample(src.reading->value, {{"source", label(src.name, x.a)}});
  }
  w.family("shackd_battery_temperature_celsius", "The battery's temperature as each source measures it", Type::gauge);
  for (const auto& src : s.battery_temp_c) {
    if (src.reading) w.sample(src.reading->value, {{"source", label(src.name, x.a)}});
  }
  w.family("shackd_battery_current_amperes", "Battery current, + charging", Type::gauge);
  if (s.battery_a) w.sample(s.battery_a->value);
  w.family("shackd_pv_power_watts", "PV production", Type::gauge);
  if (s.pv_w) w.sample(s.pv_w->value);
  w.family("shackd_load_power_watts", "AC consumption, the switched loads included", Type::gauge);
  if (s.load_w) w.sample(s.load_w->value);
  w.family("shackd_zone_temperature_celsius", "Each zone's air temperature", Type::gauge);
  for (std::size_t i = 0; i < n_zones; ++i) {
    if (const auto& r = s.zone_temp_c[i]) w.sample(r->value, {{"zone", label(zones[i].name, x.a)}});
  }
  w.family("shackd_input_age_seconds", "Time since each input was last read", Type::gauge);
  for (const auto& src : s.battery_v) {
    if (src.reading) w.sample(age_s(*src.reading, now), {{"input", prefixed("battery_v:", src.name, x.a)}});
  }
  for (const auto& src : s.battery_temp_c) {
    if (src.reading) w.sample(age_s(*src.reading, now), {{"input", prefixed("battery_temp_c:", src.name, x.a)}});
  }
  if (s.battery_a) w.sample(age_s(*s.battery_a, now), {{"input", "battery_a"}});
  if (s.pv_w) w.sample(age_s(*s.pv_w, now), {{"input", "pv_w"}});
  if (s.load_w) w.sample(age_s(*s.load_w, now), {{"input", "load_w"}});
  for (std::size_t i = 0; i < n_zones; ++i) {
    if (const auto& r = s.zone_temp_c[i]) w.sample(age_s(*r, now), {{"input", prefixed("zone_temp_c:", zones[i].name, x.a)}});
  }
  const auto& b = v.decision.battery;
  w.family("shackd_battery_decided_voltage_volts", "The voltage the decision was made on (the first fresh source)", Type::gauge);
  if (b.measured_v) w.sample(*b.measured_v);
  w.family("shackd_battery_soc_estimate_ratio", "State of charge from the voltage curve: shown, never decided on", Type::gauge);
  if (b.soc_pct) w.sample(*b.soc_pct / 100.0);
  // A state set: one series per band, 1 for the one the battery is in (OpenMetrics' StateSet,
  // written as a gauge, which both formats read).
  w.family("shackd_battery_band", "The band of thresholds the battery is in (1 for the current one)", Type::gauge);
  static constexpr rules::Band kBands[] = {rules::Band::unknown,       rules::Band::shutdown,      rules::Band::critical,
                                           rules::Band::low,           rules::Band::recovering,    rules::Band::below_optimal,
                                           rules::Band::optimal,       rules::Band::above_optimal, rules::Band::floating,
                                           rules::Band::absorption,    rules::Band::full};
  for (const auto bd : kBands) w.sample(bd == b.band ? 1 : 0, {{"band", band_name(bd)}});
  w.family("shackd_charging_blocked", "1 while the chargers are held off (a cold battery, no temperature)", Type::gauge)
      .sample(v.decision.block_charging ? 1 : 0);
  w.family("shackd_alarm_active", "The controller's active alarms, by code (present only while active)", Type::gauge);
  const auto& alarms = v.decision.alarms;
  for (std::size_t i = 0; i < alarms.size(); ++i) {
    bool seen = false;  // one series per code (a handful of alarms: a scan is enough)
    for (std::size_t j = 0; j < i; ++j) seen = seen || alarms[j].code == alarms[i].code;
    if (!seen) w.sample(1, {{"code", rules::code_name(alarms[i].code)}});
  }
  w.family("shackd_device_alarm_active", "The devices' own alarms (a BMS's, a charger's), by id", Type::gauge);
  for (const auto& [id, a] : v.device_alarms.active()) {
    w.sample(1, {{"device", label(a.device, x.a)}, {"alarm", label(id, x.b)}, {"severity", a.warning ? "warning" : "alarm"}});
  }
}

void loads(FrameWriter& w, const CycleView& v, const std::map<std::string, double>& joules, bool shadow, LabelScratch& x) {
  // One pass per family: a frame is written family by family.
  const auto each = [&](auto&& write) {
    for (const auto& l : v.loads) write(l, decision_for(v.decision, l), label(l.id, x.a), std::string_view(kind_name(l.kind)));
  };
  x.relays.resize(v.loads.size());
  for (std::size_t i = 0; i < v.loads.size(); ++i) {
    const auto& id = v.loads[i].id;
    x.relays[i] = v.relays && v.relays->has(id) ? &v.relays->status(id) : nullptr;
  }
  // The load's relay status: `l` is an element of v.loads.
  const auto relay = [&](const LoadRef& l) { return x.relays[static_cast<std::size_t>(&l - v.loads.data())]; };
  w.family("shackd_load_on", "1 while the controller wants the load on", Type::gauge);
  each([&](const LoadRef&, const rules::LoadDecision& d, std::string_view id, std::string_view kind) {
    w.sample(d.on ? 1 : 0, {{"load", id}, {"kind", kind}});
  });
  w.family("shackd_load_observed_on", "The relay's own report: 1 on, 0 off (absent until it reports)", Type::gauge);
  each([&](const LoadRef& l, const rules::LoadDecision&, std::string_view id, std::string_view kind) {
    if (const auto* s = relay(l); s && s->observed) w.sample(*s->observed ? 1 : 0, {{"load", id}, {"kind", kind}});
  });
  // Shadow mode (issue 60): shackd commands nothing, so its decision and the relay's report may
  // differ; 1 while they do (absent until the relay reports, and outside shadow mode).
  w.family("shackd_load_shadow_disagrees", "In shadow mode: 1 while the decision and the relay's report differ", Type::gauge);
  if (shadow) {
    each([&](const LoadRef& l, const rules::LoadDecision& d, std::string_view id, std::string_view kind) {
      if (const auto* s = relay(l); s && s->observed) w.sample(*s->observed != d.on ? 1 : 0, {{"load", id}, {"kind", kind}});
    });
  }
  w.family("shackd_load_relay_unconfirmed", "1 while the relay has not confirmed the last command", Type::gauge);
  double n_unconfirmed = 0;
  each([&](const LoadRef& l, const rules::LoadDecision&, std::string_view id, std::string_view kind) {
    if (const auto* s = relay(l)) {
      w.sample(s->unconfirmed ? 1 : 0, {{"load", id}, {"kind", kind}});
      n_unconfirmed += s->unconfirmed ? 1 : 0;
    }
  });
  w.family("shackd_load_relay_available", "The relay's availability topic: 1 online, 0 offline", Type::gauge);
  each([&](const LoadRef& l, const rules::LoadDecision&, std::string_view id, std::string_view kind) {
    if (const auto* s = relay(l); s && s->available) w.sample(*s->available ? 1 : 0, {{"load", id}, {"kind", kind}});
  });
  w.family("shackd_load_reason", "Why the load is as it is: 1 for the current reason code", Type::gauge);
  each([&](const LoadRef&, const rules::LoadDecision& d, std::string_view id, std::string_view) {
    w.sample(1, {{"load", id}, {"reason", rules::code_name(d.reason.code)}});
  });
  w.family("shackd_load_power_target_watts", "A miner's power target in force", Type::gauge);
  each([&](const LoadRef&, const rules::LoadDecision& d, std::string_view id, std::string_view kind) {
    if (d.target_w) w.sample(*d.target_w, {{"load", id}, {"kind", kind}});
  });
  w.family("shackd_load_relay_power_watts", "The load's draw where its relay meters it", Type::gauge);
  each([&](const LoadRef& l, const rules::LoadDecision&, std::string_view id, std::string_view kind) {
    if (const auto* s = relay(l); s && s->power_w) w.sample(*s->power_w, {{"load", id}, {"kind", kind}});
  });
  w.family("shackd_load_energy_joules", "Energy each load drew since the process started", Type::counter);
  each([&](const LoadRef& l, const rules::LoadDecision&, std::string_view id, std::string_view kind) {
    if (const auto it = joules.find(l.id); it != joules.end()) w.sample(it->second, {{"load", id}, {"kind", kind}});
  });
  w.family("shackd_relays_unconfirmed", "Relays that have not confirmed the last command", Type::gauge);
  if (v.relays) w.sample(n_unconfirmed);
  w.family("shackd_relay_commands", "Commands sent to the relays", Type::counter);
  if (v.relays) w.sample(to_double(v.relays->commands_sent()));
  const auto& miners = v.profiles.miners;
  w.family("shackd_miner_power_watts", "What each miner says it draws (its API)", Type::gauge);
  for (std::size_t i = 0; i < miners.size() && i < v.snap.miner_w.size(); ++i) {
    if (const auto& r = v.snap.miner_w[i]) w.sample(r->value, {{"load", label(miners[i].relay_id, x.a)}});
  }
  w.family("shackd_miner_temperature_celsius", "Each miner's hottest sensor (its API)", Type::gauge);
  for (std::size_t i = 0; i < miners.size() && i < v.snap.miner_temp_c.size(); ++i) {
    if (const auto& r = v.snap.miner_temp_c[i]) w.sample(r->value, {{"load", label(miners[i].relay_id, x.a)}});
  }
}

// Each AC source against its rating (issue 59): what it carries on each phase (its own meter,
// while fresh), its continuous rating, its own overload warnings and whether a generator runs.
// The same figures as <prefix>/ac/<id> (daemon/vocab/ac_figures.hpp).
void ac_sources(FrameWriter& w, const CycleView& v, rules::SteadyTime now, LabelScratch& x) {
  static constexpr std::string_view kPhase[] = {"L1", "L2", "L3"};
  const AcFigures ac = ac_figures(v.profiles.rules, v.snap, v.state, now);
  const auto source = [&](std::size_t s) { return label(ac.source[s].name, x.a); };
  w.family("shackd_ac_source_load_watts", "What each AC source carries on each phase (its own meter)", Type::gauge);
  for (std::size_t s = 0; s < ac.count; ++s) {
    for (std::size_t k = 0; k < ac.source[s].phases; ++k) {
      if (const auto& l = ac.source[s].phase[k].load_w) w.sample(*l, {{"source", source(s)}, {"phase", kPhase[k]}});
    }
  }
  w.family("shackd_ac_source_rating_watts", "Each AC source's continuous rating per phase (0: not rated)", Type::gauge);
  for (std::size_t s = 0; s < ac.count; ++s) w.sample(ac.source[s].rating_w, {{"source", source(s)}});
  w.family("shackd_ac_source_surge_rating_watts",
           "Each AC source's surge rating per phase, what a start must fit in (0: no surge test)", Type::gauge);
  for (std::size_t s = 0; s < ac.count; ++s) w.sample(ac.source[s].surge_w, {{"source", source(s)}});
  w.family("shackd_ac_source_overload", "Each AC source's own overload warning: 0 ok, 1 warning, 2 alarm", Type::gauge);
  for (std::size_t s = 0; s < ac.count; ++s) {
    if (const auto& o = ac.source[s].overload) w.sample(*o, {{"source", source(s)}, {"phase", "all"}});
    for (std::size_t k = 0; k < ac.source[s].phases; ++k) {
      if (const auto& o = ac.source[s].phase[k].overload) w.sample(*o, {{"source", source(s)}, {"phase", kPhase[k]}});
    }
  }
  w.family("shackd_generator_running", "1 while a generator feeds the site, 0 while none does (absent: not known)", Type::gauge);
  if (ac.generator_running) w.sample(*ac.generator_running ? 1 : 0);
}

void devices(FrameWriter& w, const CycleView& v, rules::SteadyTime now, LabelScratch& x) {
  const auto each = [&](auto&& write) {
    for (const auto& [name, h] : v.devices) {
      if (h) write(*h, label(name, x.a));
    }
  };
  w.family("shackd_device_up", "1 while the device answers its polls", Type::gauge);
  each([&](const drivers::DeviceHealth& h, std::string_view d) {
    w.sample(h.consecutive_failures == 0 && h.last_success ? 1 : 0, {{"device", d}});
  });
  w.family("shackd_device_requests", "Modbus requests sent to the device", Type::counter);
  each([&](const drivers::DeviceHealth& h, std::string_view d) { w.sample(to_double(h.requests), {{"device", d}}); });
  w.family("shackd_device_failed_requests", "Modbus requests that failed", Type::counter);
  each([&](const drivers::DeviceHealth& h, std::string_view d) { w.sample(to_double(h.failed_requests), {{"device", d}}); });
  w.family("shackd_device_reconnects", "Connections made again to the device", Type::counter);
  each([&](const drivers::DeviceHealth& h, std::string_view d) { w.sample(to_double(h.reconnects), {{"device", d}}); });
  w.family("shackd_device_last_success_age_seconds", "Time since the device last answered", Type::gauge);
  each([&](const drivers::DeviceHealth& h, std::string_view d) {
    if (h.last_success) w.sample(std::chrono::duration<double>(now - *h.last_success).count(), {{"device", d}});
  });
}

void loop(FrameWriter& w, const CycleView& v, const SiteInfo& site, LabelScratch& x) {
  const LoopStats& s = v.loop;
  w.family("shackd_cycles", "Decision cycles run", Type::counter).sample(to_double(s.cycles));
  w.family("shackd_cycle_missed_ticks", "Ticks missed: a cycle started more than half an interval late", Type::counter)
      .sample(to_double(s.missed));
  w.family("shackd_cycles_undecided", "Cycles without a decision (no watchdog ping)", Type::counter).sample(to_double(s.undecided));
  w.family("shackd_cycle_duration_seconds", "The last cycle's duration", Type::gauge).sample(s.last_ms / 1000.0);
  w.family("shackd_cycle_duration_max_seconds", "The longest cycle since the start", Type::gauge).sample(s.longest_ms / 1000.0);
  w.family("shackd_last_cycle_timestamp_seconds", "Wall time of the last cycle (Unix seconds)", Type::gauge)
      .sample(static_cast<double>(site.wall_s));
  w.family("shackd_side_job_failures", "Side jobs of a cycle that failed (the decision went on)", Type::counter);
  for (std::size_t i = 0; i < kSideJobs; ++i) {
    w.sample(to_double(s.failed[i]), {{"side_job", side_job_name(static_cast<SideJob>(i))}});
  }
  w.family("shackd_events", "Events recorded (transitions, alarms)", Type::counter).sample(to_double(s.events));
  w.family("shackd_store_queue_items", "Events and states waiting for the database", Type::gauge).sample(to_double(s.store_queued));
  w.family("shackd_store_errors", "Failed database flushes (disk full, read-only, locked)", Type::counter)
      .sample(to_double(s.store_errors));
  w.family("shackd_log_lines_lost", "Log lines that could not be written", Type::counter).sample(to_double(s.log_lost));
  // Every loss of a side job's queue, by what was lost (issue 44): never silent.
  w.family("shackd_records_lost", "Records a full queue dropped: events not stored, telemetry samples not stored, "
           "events not sent, events neither stored nor sent (also counted as the first and the third)", Type::counter);
  w.sample(to_double(s.events_unstored), {{"what", "event_unstored"}});
  w.sample(to_double(s.samples_unstored), {{"what", "sample_unstored"}});
  w.sample(to_double(s.events_unsent), {{"what", "event_unsent"}});
  w.sample(to_double(s.events_lost), {{"what", "event_lost"}});
  // What the publisher could not send (daemon/publish/publisher.hpp): MQTT's view lags, the
  // decisions do not. What the link refused is counted once, in shackd_mqtt_publishes_refused.
  w.family("shackd_publish_lost", "MQTT publications lost: cycle views replaced by newer ones before they went out, "
           "messages dropped past the publisher's queue", Type::counter);
  w.sample(to_double(s.publish_coalesced), {{"what", "view_coalesced"}});
  w.sample(to_double(s.publish_dropped), {{"what", "message_dropped"}});
  w.family("shackd_store_write_seconds", "How long the database write under way has taken (0: none)", Type::gauge)
      .sample(s.store_write_s);
  w.family("shackd_store_unread_seconds",
           "How long the start's stored state has not been read, every relay held OFF meanwhile (0: read)", Type::gauge)
      .sample(s.store_unread_s);
  w.family("shackd_mqtt_messages_dropped", "MQTT messages not handled (past a cycle's share, or a full queue)", Type::counter)
      .sample(to_double(s.mqtt_dropped + s.mqtt_dropped_by_link));
  w.family("shackd_mqtt_messages_refused", "MQTT messages refused unread (too large)", Type::counter).sample(to_double(s.mqtt_refused));
  w.family("shackd_mqtt_publishes_refused",
           "shackd's own messages the link refused (its buffer full); retained ones go again next cycle", Type::counter)
      .sample(to_double(s.publishes_refused));
  const MqttHealth& m = v.mqtt;
  w.family("shackd_mqtt_connected", "1 while connected to the broker", Type::gauge).sample(m.connected_since_unix_s ? 1 : 0);
  w.family("shackd_mqtt_down_seconds", "How long the broker has been away (0: connected); relay commands wait for it",
           Type::gauge)
      .sample(m.down_since_unix_s ? to_double(std::max<std::int64_t>(0, site.wall_s - *m.down_since_unix_s)) : 0);
  w.family("shackd_mqtt_outages", "Broker connections lost or never made", Type::counter).sample(to_double(m.outages));
  w.family("shackd_mqtt_failed_connects", "Broker connection attempts refused or unanswered", Type::counter)
      .sample(to_double(m.failed_connects));
  // What the broker says it dropped past its queues, for all its clients (BrokerWatch); absent
  // until it says.
  w.family("shackd_mqtt_broker_dropped",
           "Messages the broker dropped past its queues (max_queued_messages), for all its clients together, "
           "since shackd first heard its count ($SYS/broker/publish/messages/dropped)", Type::counter);
  if (m.broker_dropped_total) w.sample(to_double(m.broker_dropped));
  // The broker's bridges to a central broker, as its $SYS says (the uplink; none without one).
  w.family("shackd_uplink_connected", "1 while the site broker's bridge to the central broker is connected", Type::gauge);
  for (const auto& [name, b] : m.bridges) w.sample(b.connected ? 1 : 0, {{"bridge", label(name, x.a)}});
  w.family("shackd_uplink_changes", "The bridge's connects and drops seen since shackd started", Type::counter);
  for (const auto& [name, b] : m.bridges) w.sample(to_double(b.changes), {{"bridge", label(name, x.a)}});
}

}  // namespace

void Collector::count_energy(const std::vector<LoadRef>& loads, const EnergyMeter& energy) {
  const bool new_day = energy.day() != day_;
  for (const auto& l : loads) {
    const auto it = energy.totals().find(l.state_key);
    const double wh = it == energy.totals().end() ? 0 : it->second.wh;
    double& last = last_wh_[l.state_key];
    // A new day starts the meter from zero; the first look at a day restored from the store
    // counts nothing (that energy was before this process).
    const double delta = day_.empty() ? 0 : new_day ? wh : wh - last;
    joules_[l.id] += std::max(0.0, delta) * 3600.0;
    last = wh;
  }
  if (new_day) day_ = energy.day();
}

namespace {
// The controller's own health (daemon/system/host_health.hpp): each family present only where the
// machine has its source, so a PC's endpoint has none of them.
void host_families(FrameWriter& w, const HostHealth* h) {
  const auto* r = h ? &h->reading() : nullptr;
  w.family("shackd_controller_under_voltage", "1 while the controller's supply is (lately) below what it needs", Type::gauge);
  if (r && r->under_voltage) w.sample(*r->under_voltage ? 1 : 0);
  w.family("shackd_controller_throttled", "1 while the controller's clock is (lately) held down", Type::gauge);
  if (r && r->throttled) w.sample(*r->throttled ? 1 : 0);
  w.family("shackd_controller_temperature_celsius", "The controller's processor temperature", Type::gauge);
  if (r && r->soc_temp_c) w.sample(*r->soc_temp_c);
  w.family("shackd_controller_storage_life_used_ratio", "The controller's eMMC's own estimate of its life used (upper end of its 10 % step)",
           Type::gauge);
  if (r && r->emmc_life_used_pct) w.sample(*r->emmc_life_used_pct / 100.0);
  w.family("shackd_controller_shedding", "1 while the loads are shed for the controller's heat", Type::gauge);
  if (h) w.sample(h->state().shedding ? 1 : 0);
  w.family("shackd_controller_alarm_active", "The controller's own alarms, by code (present only while active)", Type::gauge);
  if (h) {
    for (std::size_t i = 0; i < rules::kHostAlarms; ++i) {
      if (h->state().active[i]) w.sample(1, {{"code", rules::host_alarm_name(static_cast<rules::HostAlarm>(i))}});
    }
  }
}
}  // namespace

void Collector::collect(const CycleView& v, const SiteInfo& site, rules::SteadyTime now, std::vector<Family>& out) {
  FrameWriter w(out);
  LabelScratch& x = scratch_;
  w.family("shackd_build_info", "The running version", Type::gauge).sample(1, {{"version", label(site.version, x.a)}});
  w.family("shackd_site_info", "The site's id (fixed once, kept across renames) and name", Type::gauge)
      .sample(1, {{"site_id", label(site.site_id, x.a)}, {"site_name", label(site.site_name, x.b)}});
  w.family("process_start_time_seconds", "Start time of the process since the epoch", Type::gauge)
      .sample(static_cast<double>(site.started_unix_s));
  w.family("shackd_dry_run", "1 in a dry run: decisions without relay commands", Type::gauge).sample(site.dry_run ? 1 : 0);
  w.family("shackd_shadow_mode", "1 in shadow mode: decisions beside another controller, nothing switched", Type::gauge)
      .sample(site.shadow ? 1 : 0);
  battery(w, v, now, x);
  loads(w, v, joules_, site.shadow, x);
  ac_sources(w, v, now, x);
  devices(w, v, now, x);
  loop(w, v, site, x);
  host_families(w, site.host);
  w.finish();
}

}  // namespace shackd::metrics

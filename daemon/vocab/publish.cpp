#include "daemon/vocab/publish.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>

#include <cmath>

#include "daemon/text/json_out.hpp"
#include "daemon/vocab/render.hpp"
#include "daemon/site/profile_schema.hpp"

namespace shackd {

// At namespace scope, not in the anonymous one: a unity batch declares it once per file.
using json = nlohmann::json;

namespace {



double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

double age_s(rules::SteadyTime now, rules::SteadyTime as_of) {
  return round_to(std::chrono::duration<double>(now - as_of).count(), 1);
}

}  // namespace

std::string reason_json(const rules::Reason& r) {
  std::string out;
  append_reason(out, r);
  return out;
}

void append_reason(std::string& out, const rules::Reason& r) {
  out += '{';
  json_out::key(out, "code");
  out += std::to_string(static_cast<int>(r.code));
  json_out::key(out, "name");
  json_out::string(out, rules::code_name(r.code));
  json_out::key(out, "text");
  json_out::string(out, rules::describe(r));
  if (r.cause != rules::ReasonCode::none) {
    json_out::key(out, "cause");
    json_out::string(out, rules::code_name(r.cause));
  }
  if (!std::isnan(r.value)) {
    json_out::key(out, "value");
    json_out::number(out, r.value, 3);
  }
  if (!std::isnan(r.limit)) {
    json_out::key(out, "limit");
    json_out::number(out, r.limit, 3);
  }
  if (r.remaining.count() > 0) {
    json_out::key(out, "remaining_s");
    json_out::number(out, rules::to_seconds(r.remaining), 0);
  }
  out += '}';
}

namespace {
// "pv_w":{"value":8450,"age_s":1.2}, or nulls.
// A partial sum (a part missing) adds "partial":true: the value is a lower bound.
void measured_out(std::string& out, std::string_view name, const std::optional<rules::Reading>& r,
                  rules::SteadyTime now, int decimals, bool partial = false) {
  json_out::key(out, name);
  out += "{\"value\":";
  json_out::number(out, r ? std::optional<double>(r->value) : std::nullopt, decimals);
  out += ",\"age_s\":";
  json_out::number(out, r ? std::optional<double>(age_s(now, r->as_of)) : std::nullopt, 1);
  if (r && partial) out += ",\"partial\":true";
  out += '}';
}
}  // namespace

std::string state_json(const rules::Snapshot& snap, const rules::Decision& d, const StoredProfiles& p) {
  const auto& b = d.battery;
  const rules::SteadyTime now = snap.now;
  const rules::Source* used = source_at(snap.battery_v, b.source);
  std::string out;
  out.reserve(1024);
  out += '{';
  json_out::key(out, "battery_v");
  json_out::number(out, b.measured_v, 2);
  json_out::key(out, "battery_v_age_s");
  json_out::number(out, used && used->reading ? std::optional<double>(age_s(now, used->reading->as_of)) : std::nullopt, 1);
  json_out::key(out, "battery_v_decided");
  json_out::number(out, b.decide_v, 2);
  json_out::key(out, "voltage_source");
  json_out::string(out, source_name(snap.battery_v, b.source));
  // Derived from the voltage curve: for people, never decided on.
  json_out::key(out, "soc_pct_estimated");
  json_out::number(out, b.soc_pct, 1);
  json_out::key(out, "band");
  json_out::string(out, band_name(b.band));
  measured_out(out, "pv_w", snap.pv_w, now, 0, snap.pv_w_partial);
  measured_out(out, "load_w", snap.load_w, now, 0, snap.load_w_partial);
  measured_out(out, "battery_a", snap.battery_a, now, 1);
  std::optional<rules::Reading> battery_w;  // + = charging
  if (snap.battery_a && b.measured_v) battery_w = rules::Reading{snap.battery_a->value * *b.measured_v, snap.battery_a->as_of};
  measured_out(out, "battery_w", battery_w, now, 0);
  // The battery temperature the charge decision used (else the first source that has one).
  const rules::Source* temp = source_at(snap.battery_temp_c, d.charge_temp_source);
  for (const auto& t : snap.battery_temp_c) {
    if (!temp && t.reading) temp = &t;
  }
  measured_out(out, "battery_temp_c", temp ? temp->reading : std::nullopt, now, 1);
  json_out::key(out, "battery_temp_source");
  json_out::string(out, temp ? std::string_view(temp->name) : std::string_view("none"));
  json_out::key(out, "zones_c");
  out += '{';
  for (std::size_t i = 0; i < p.rules.zones.size(); ++i) {
    const auto& r = i < snap.zone_temp_c.size() ? snap.zone_temp_c[i] : std::optional<rules::Reading>{};
    measured_out(out, p.rules.zones[i].name, r, now, 1);
  }
  out += '}';
  // The chargers' word that they hold PV back (a full battery): what hidden-surplus probes wait on.
  json_out::key(out, "chargers_limiting");
  out += !snap.chargers_limiting ? "null" : snap.chargers_limiting->value > 0.5 ? "true" : "false";
  if (snap.chargers_limiting && snap.chargers_limiting->value > 0.5) {
    json_out::key(out, "chargers_evidence");
    json_out::string(out, snap.chargers_evidence);
  }
  // Whether a generator feeds the site (the loads' on_generator policies apply): null not known.
  json_out::key(out, "generator_running");
  out += !snap.generator_running ? "null" : snap.generator_running->value > 0.5 ? "true" : "false";
  json_out::key(out, "block_charging");
  out += d.block_charging ? "true" : "false";
  json_out::key(out, "charge_reason");
  append_reason(out, d.charge_reason);
  json_out::key(out, "alarms");
  out += '[';
  for (std::size_t i = 0; i < d.alarms.size(); ++i) {
    if (i) out += ',';
    append_reason(out, d.alarms[i]);
  }
  out += "]}";
  return out;
}

std::string energy_json(const std::string& day, const LoadEnergy& e, double rated_w) {
  // Rated time is what is left of on_s (sums of doubles: a rounding is not an hour at the rating).
  // A load with a rating and no unknown time is known from its first second: a miner that
  // started half a second ago has used its rating's worth, not "no meter, no rating".
  const double rated_s = e.on_s - e.metered_s - e.unrated_s;
  const bool metered = e.metered_s > 0, rated = rated_s > 0.5 || (rated_w > 0 && rated_s > 0);
  const bool known = metered || rated || (e.on_s == 0 && rated_w > 0);
  std::string out = "{";
  json_out::key(out, "day");
  json_out::string(out, day);
  json_out::key(out, "today_kwh");
  if (known) json_out::number(out, e.wh / 1000.0, 3);
  else out += "null";
  json_out::key(out, "on_h");
  json_out::number(out, e.on_s / 3600.0, 3);
  json_out::key(out, "basis");
  json_out::string(out, metered && rated ? "metered and rated" : metered ? "metered" : known ? "rated" : "none");
  json_out::key(out, "rated_w");
  json_out::number(out, rated_w, 0);
  out += '}';
  return out;
}

std::string miner_settings_json(const StoredProfiles& p, std::size_t i) {
  std::string out = "{";
  for (const auto& f : schema::miner().fields) {
    if (f.unit != "V" && !f.settable) continue;
    json_out::key(out, f.key);
    const schema::Value v = f.get(p, i);
    if (const auto* d = std::get_if<double>(&v)) json_out::number(out, *d, 2);
    else if (const auto* n = std::get_if<std::int64_t>(&v)) json_out::number(out, static_cast<double>(*n), 0);
    else if (const auto* s = std::get_if<std::string>(&v)) json_out::string(out, *s);
    else out += "null";
  }
  out += '}';
  return out;
}

std::string flow_energy_json(const std::string& day, const LoadEnergy& e) {
  std::string out = "{";
  json_out::key(out, "day");
  json_out::string(out, day);
  json_out::key(out, "today_kwh");
  if (e.metered_s > 0 || e.on_s == 0) json_out::number(out, e.wh / 1000.0, 3);
  else out += "null";
  json_out::key(out, "measured_h");
  json_out::number(out, e.metered_s / 3600.0, 3);
  json_out::key(out, "unknown_h");  // counted time without a fresh reading
  json_out::number(out, e.unrated_s / 3600.0, 3);
  out += '}';
  return out;
}

std::string loop_json(const LoopStats& s) {
  std::string out = "{";
  json_out::key(out, "cycles");
  out += std::to_string(s.cycles);
  json_out::key(out, "missed");
  out += std::to_string(s.missed);
  json_out::key(out, "last_ms");
  json_out::number(out, s.last_ms, 2);
  json_out::key(out, "longest_ms");
  json_out::number(out, s.longest_ms, 2);
  json_out::key(out, "events");
  out += std::to_string(s.events);
  json_out::key(out, "store_queued");
  out += std::to_string(s.store_queued);
  json_out::key(out, "store_errors");
  out += std::to_string(s.store_errors);
  // Side jobs that failed, by job (all of them, 0 included, so a dashboard has a fixed shape).
  json_out::key(out, "failed");
  out += '{';
  for (std::size_t i = 0; i < kSideJobs; ++i) {
    json_out::key(out, side_job_name(static_cast<SideJob>(i)));
    out += std::to_string(s.failed[i]);
  }
  out += '}';
  json_out::key(out, "last_failure");
  if (s.last_failure.empty()) out += "null";
  else json_out::string(out, s.last_failure);
  json_out::key(out, "undecided");
  out += std::to_string(s.undecided);
  json_out::key(out, "unswitched");
  out += std::to_string(s.unswitched);
  json_out::key(out, "mqtt_dropped");
  out += std::to_string(s.mqtt_dropped);
  json_out::key(out, "mqtt_dropped_by_link");
  out += std::to_string(s.mqtt_dropped_by_link);
  json_out::key(out, "mqtt_refused");
  out += std::to_string(s.mqtt_refused);
  json_out::key(out, "publishes_refused");
  out += std::to_string(s.publishes_refused);
  json_out::key(out, "log_lost");
  out += std::to_string(s.log_lost);
  json_out::key(out, "events_unstored");
  out += std::to_string(s.events_unstored);
  json_out::key(out, "samples_unstored");
  out += std::to_string(s.samples_unstored);
  json_out::key(out, "events_unsent");
  out += std::to_string(s.events_unsent);
  json_out::key(out, "events_lost");
  out += std::to_string(s.events_lost);
  // What the broker dropped past its queues, for all its clients (null: it has not said).
  json_out::key(out, "broker_dropped");
  if (s.broker_drops_heard) out += std::to_string(s.broker_dropped);
  else out += "null";
  json_out::key(out, "store_write_s");
  json_out::number(out, s.store_write_s, 1);
  json_out::key(out, "store_unread_s");
  json_out::number(out, s.store_unread_s, 1);
  json_out::key(out, "publish_coalesced");
  out += std::to_string(s.publish_coalesced);
  json_out::key(out, "publish_dropped");
  out += std::to_string(s.publish_dropped);
  out += '}';
  return out;
}

std::string decision_json(const rules::Decision& d, const std::vector<LoadRef>& loads) {
  std::string out;
  out.reserve(256 * loads.size() + 64);
  out += "{\"loads\":[";
  for (std::size_t i = 0; i < loads.size(); ++i) {
    const auto& l = loads[i];
    const auto& ld = decision_for(d, l);
    if (i) out += ',';
    out += '{';
    json_out::key(out, "id");
    json_out::string(out, l.id);
    json_out::key(out, "name");
    json_out::string(out, l.name);
    json_out::key(out, "kind");
    json_out::string(out, kind_name(l.kind));
    json_out::key(out, "on");
    out += ld.on ? "true" : "false";
    json_out::key(out, "changed");
    out += ld.changed ? "true" : "false";
    json_out::key(out, "reason");
    append_reason(out, ld.reason);
    if (l.kind == LoadRef::Kind::fan && ld.fan_speed > 0) {
      json_out::key(out, "fan_speed");
      out += std::to_string(ld.fan_speed);
    }
    out += '}';
  }
  out += "],\"block_charging\":";
  out += d.block_charging ? "true" : "false";
  out += '}';
  return out;
}

std::string local_iso(std::int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &local);
  const std::string s(buf);
  if (s.size() < 5) return s;
  return s.substr(0, s.size() - 2) + ":" + s.substr(s.size() - 2);  // +0100 -> +01:00 (ISO 8601 extended)
}

std::string event_json(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                       const std::string& detail, std::optional<std::int64_t> at_unix_s, const EventId* id) {
  json j{{"kind", kind}, {"reason", json::parse(reason_json(r))}};
  if (id) {
    j["id"] = fmt::format("{}:{}:{}", id->site, id->run_ms, id->seq);
    j["site"] = id->site;
    j["run"] = id->run_ms;
    j["seq"] = id->seq;
  }
  if (at_unix_s) j["at"] = local_iso(*at_unix_s);
  if (!load_id.empty()) j["load"] = load_id;
  if (!detail.empty()) j["detail"] = detail;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string site_health_json(const MqttHealth& mqtt, const std::map<std::string, bool>& devices_ok,
                             std::size_t store_queued, std::uint64_t store_errors) {
  json m{{"connected", mqtt.connected_since_unix_s.has_value()},
         {"outages", mqtt.outages},
         {"failed_connects", mqtt.failed_connects}};
  m["connected_since"] = mqtt.connected_since_unix_s ? json(local_iso(*mqtt.connected_since_unix_s)) : json(nullptr);
  if (mqtt.last_outage) {
    const auto& o = *mqtt.last_outage;
    m["last_outage"] = {{"from", local_iso(o.from_unix_s)},
                        {"to", local_iso(o.to_unix_s)},
                        {"duration_s", o.to_unix_s - o.from_unix_s},
                        {"cause", o.cause}};
  } else {
    m["last_outage"] = nullptr;
  }
  // The broker's drops, for all its clients (BrokerWatch): null until it says.
  m["broker_dropped"] = mqtt.broker_dropped_total ? json(mqtt.broker_dropped) : json(nullptr);
  m["broker_dropped_since_start"] = mqtt.broker_dropped_total ? json(*mqtt.broker_dropped_total) : json(nullptr);
  json d = json::object();
  for (const auto& [name, ok] : devices_ok) d[name] = ok ? "ok" : "down";
  json health{{"mqtt", m}, {"devices", d}, {"store", {{"queued", store_queued}, {"errors", store_errors}}}};
  // Only once the broker has told of a bridge: a site without one shows no uplink at all.
  if (!mqtt.bridges.empty()) {
    json u = json::object();
    for (const auto& [name, b] : mqtt.bridges) {
      u[name] = {{"connected", b.connected}, {"since", local_iso(b.since_unix_s)}, {"changes", b.changes}};
    }
    health["uplink"] = u;
  }
  return health.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string health_json(const drivers::DeviceHealth& h, rules::SteadyTime now) {
  json j{{"connected", h.connected},
         {"consecutive_failures", h.consecutive_failures},
         {"last_error", h.last_error},
         {"requests", h.requests},
         {"failed_requests", h.failed_requests},
         {"reconnects", h.reconnects},
         {"not_served", h.refused},           // registers this firmware refuses (0x02)
         {"not_available", h.not_available},  // sensors that report "not available"
         {"identity", h.identity}};           // what each unit said it is (the Deye family's device type)
  j["last_success_age_s"] = h.last_success ? json(age_s(now, *h.last_success)) : json(nullptr);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace shackd

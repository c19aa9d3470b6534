#include "daemon/publish.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

#include "daemon/render.hpp"

namespace shackd {

namespace {

using nlohmann::json;


double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

double age_s(rules::SteadyTime now, rules::SteadyTime as_of) {
  return round_to(std::chrono::duration<double>(now - as_of).count(), 1);
}

// {"value": 8450, "age_s": 1.2} or {"value": null, "age_s": null}
json measured(const std::optional<rules::Reading>& r, rules::SteadyTime now, int decimals) {
  if (!r) return json{{"value", nullptr}, {"age_s", nullptr}};
  return json{{"value", round_to(r->value, decimals)}, {"age_s", age_s(now, r->as_of)}};
}

}  // namespace

std::string reason_json(const rules::Reason& r) { return reason_object(r).dump(); }

json reason_object(const rules::Reason& r) {
  json j{{"code", static_cast<int>(r.code)}, {"name", rules::code_name(r.code)}, {"text", rules::describe(r)}};
  if (r.cause != rules::ReasonCode::none) j["cause"] = rules::code_name(r.cause);
  if (!std::isnan(r.value)) j["value"] = r.value;
  if (!std::isnan(r.limit)) j["limit"] = r.limit;
  if (r.remaining.count() > 0) j["remaining_s"] = round_to(rules::to_seconds(r.remaining), 0);
  return j;
}

std::string state_json(const rules::Snapshot& snap, const rules::Decision& d, const StoredProfiles& p) {
  const auto& b = d.battery;
  const rules::SteadyTime now = snap.now;
  const std::optional<rules::Reading>* used = nullptr;
  switch (b.source) {
    case rules::VoltageSource::battery_monitor: used = &snap.monitor_battery_v; break;
    case rules::VoltageSource::gx_system: used = &snap.gx_battery_v; break;
    case rules::VoltageSource::solark: used = &snap.solark_battery_v; break;
    case rules::VoltageSource::none: break;
  }
  json j;
  j["battery_v"] = b.measured_v ? json(round_to(*b.measured_v, 2)) : json(nullptr);
  j["battery_v_age_s"] = used && *used ? json(age_s(now, (*used)->as_of)) : json(nullptr);
  j["battery_v_decided"] = b.decide_v ? json(round_to(*b.decide_v, 2)) : json(nullptr);
  j["voltage_source"] = source_name(b.source);
  // Derived from the voltage curve: for people, never decided on.
  j["soc_pct_estimated"] = b.soc_pct ? json(round_to(*b.soc_pct, 1)) : json(nullptr);
  j["band"] = band_name(b.band);
  j["pv_w"] = measured(snap.pv_w, now, 0);
  j["load_w"] = measured(snap.load_w, now, 0);
  j["battery_a"] = measured(snap.battery_a, now, 1);
  if (snap.battery_a && b.measured_v) {
    j["battery_w"] = json{{"value", round_to(snap.battery_a->value * *b.measured_v, 0)},
                          {"age_s", age_s(now, snap.battery_a->as_of)}};  // + = charging
  } else {
    j["battery_w"] = json{{"value", nullptr}, {"age_s", nullptr}};
  }
  j["battery_temp_c"] = measured(snap.battery_temp_c, now, 1);
  json zones = json::object();
  for (std::size_t i = 0; i < p.rules.zones.size(); ++i) {
    const auto& r = i < snap.zone_temp_c.size() ? snap.zone_temp_c[i] : std::optional<rules::Reading>{};
    zones[p.rules.zones[i].name] = measured(r, now, 1);
  }
  j["zones_c"] = zones;
  j["block_charging"] = d.block_charging;
  j["charge_reason"] = (reason_object(d.charge_reason));
  json alarms = json::array();
  for (const auto& a : d.alarms) alarms.push_back((reason_object(a)));
  j["alarms"] = alarms;
  return j.dump();
}

const rules::LoadDecision& decision_for(const rules::Decision& d, const LoadRef& load) {
  switch (load.kind) {
    case LoadRef::Kind::miner: return d.miners.at(load.index);
    case LoadRef::Kind::fan: return d.zones.at(load.index).fan;
    case LoadRef::Kind::heater: return d.zones.at(load.index).heater;
  }
  return d.miners.at(load.index);
}

std::string decision_json(const rules::Decision& d, const std::vector<LoadRef>& loads) {
  json arr = json::array();
  for (const auto& l : loads) {
    const auto& ld = decision_for(d, l);
    json e{{"id", l.id}, {"name", l.name}, {"kind", kind_name(l.kind)}, {"on", ld.on}, {"changed", ld.changed},
           {"reason", (reason_object(ld.reason))}};
    if (l.kind == LoadRef::Kind::fan && ld.fan_speed > 0) e["fan_speed"] = ld.fan_speed;
    arr.push_back(e);
  }
  return json{{"loads", arr}, {"block_charging", d.block_charging}}.dump();
}

std::string event_json(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                       const std::string& detail) {
  json j{{"kind", kind}, {"reason", (reason_object(r))}};
  if (!load_id.empty()) j["load"] = load_id;
  if (!detail.empty()) j["detail"] = detail;
  return j.dump();
}

std::string health_json(const drivers::DeviceHealth& h, rules::SteadyTime now) {
  json j{{"connected", h.connected},
         {"consecutive_failures", h.consecutive_failures},
         {"last_error", h.last_error},
         {"requests", h.requests},
         {"failed_requests", h.failed_requests},
         {"reconnects", h.reconnects}};
  j["last_success_age_s"] = h.last_success ? json(age_s(now, *h.last_success)) : json(nullptr);
  return j.dump();
}

}  // namespace shackd

#include "daemon/store/profile_rows.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace shackd::rows {

namespace {

using rules::Duration;

std::int64_t whole_seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }
Duration seconds(std::int64_t s) { return std::chrono::seconds(s); }

Value opt(const std::optional<double>& v) { return v ? Value(*v) : Value(); }
Value opt(const std::optional<std::string>& v) { return v ? Value(*v) : Value(); }
Value flag(bool b) { return std::int64_t{b ? 1 : 0}; }

// Typed reads from a row; the field table guarantees the variant holds the right type or null.
struct Reader {
  const Row& row;
  const std::vector<Field>& fields;
  std::string who;  // "miner 'X'" for messages
  std::vector<std::string>& errors;

  const Value& at(std::string_view name) const { return row.at(index_of(fields, name)); }
  double real(std::string_view name) const {
    const Value& v = at(name);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::optional<double> opt_real(std::string_view name) const {
    if (std::holds_alternative<std::monostate>(at(name))) return std::nullopt;
    return real(name);
  }
  std::int64_t integer(std::string_view name) const {
    const Value& v = at(name);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(std::llround(*d));
    return 0;
  }
  int small(std::string_view name) const {
    const std::int64_t v = integer(name);
    return v < -1000000 || v > 1000000 ? 1000000 : static_cast<int>(v);  // validate() reports range
  }
  bool boolean(std::string_view name) const { return integer(name) != 0; }
  std::string text(std::string_view name) const {
    const Value& v = at(name);
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    return {};
  }
  std::optional<std::string> opt_text(std::string_view name) const {
    if (std::holds_alternative<std::monostate>(at(name))) return std::nullopt;
    return text(name);
  }
  template <typename T, typename Parse>
  T choice(std::string_view name, Parse parse, T fallback, const char* allowed) const {
    const std::string s = text(name);
    if (auto v = parse(s)) return *v;
    errors.push_back(fmt::format("{}: {} '{}' must be {}", who, name, s, allowed));
    return fallback;
  }
};

const std::vector<Field> kSite = {
    {"curve_v_0", Kind::real}, {"curve_v_15", Kind::real}, {"curve_v_40", Kind::real},
    {"curve_v_60", Kind::real}, {"curve_v_80", Kind::real}, {"curve_v_100", Kind::real},
    {"voltage_shutdown", Kind::real}, {"voltage_critical_low", Kind::real}, {"voltage_low", Kind::real},
    {"voltage_restart", Kind::real}, {"voltage_optimal_min", Kind::real}, {"voltage_optimal_max", Kind::real},
    {"voltage_float", Kind::real}, {"voltage_absorption", Kind::real}, {"voltage_full", Kind::real},
    {"timezone", Kind::text}, {"latitude", Kind::real, true}, {"longitude", Kind::real, true},
    {"operating_mode", Kind::text}, {"display", Kind::text},
    {"source_disagreement_v", Kind::real}, {"internal_resistance_ohm", Kind::real}, {"mode_margin_v", Kind::real},
    {"plausible_min_v", Kind::real}, {"plausible_max_v", Kind::real},
    {"electrical_stale_after_s", Kind::integer}, {"temperature_stale_after_s", Kind::integer},
    {"stagger_s", Kind::integer}, {"stale_hold_max_s", Kind::integer}, {"sunny_window_s", Kind::integer},
    {"block_charging_hysteresis_c", Kind::real}, {"hvac_min_on_s", Kind::integer}, {"hvac_min_off_s", Kind::integer},
    {"load_start_margin_v", Kind::real},
    {"probe_settle_s", Kind::integer}, {"probe_max_discharge_a", Kind::real}, {"probe_max_ah", Kind::real},
    {"probe_margin_v", Kind::real}, {"probe_backoff_min_s", Kind::integer}, {"probe_backoff_max_s", Kind::integer},
};

const std::vector<Field> kMiner = {
    {"name", Kind::text, false, true}, {"model", Kind::text}, {"hashrate_th", Kind::real, true},
    {"power_w", Kind::real, false, true}, {"enabled", Kind::boolean}, {"priority", Kind::integer, false, true},
    {"start_voltage", Kind::real, false, true}, {"stop_voltage", Kind::real, false, true},
    {"emergency_stop_voltage", Kind::real, false, true},
    {"require_excess_solar", Kind::boolean}, {"minimum_excess_w", Kind::real}, {"minimum_solar_w", Kind::real},
    {"require_sunny", Kind::boolean}, {"schedule", Kind::text}, {"allow_outside_schedule", Kind::boolean},
    {"operating_mode", Kind::text}, {"relay_id", Kind::text},
    {"min_on_s", Kind::integer}, {"min_off_s", Kind::integer}, {"start_delay_s", Kind::integer},
    {"stop_delay_s", Kind::integer}, {"max_starts_per_hour", Kind::integer}, {"stale_policy", Kind::text},
    {"probe_hidden_surplus", Kind::boolean},
};

const std::vector<Field> kZone = {
    {"name", Kind::text, false, true}, {"enabled", Kind::boolean}, {"zone_type", Kind::text}, {"sensor_id", Kind::text},
    {"too_hot_c", Kind::real, false, true}, {"hot_ok_c", Kind::real, false, true},
    {"too_cold_c", Kind::real, false, true}, {"cold_ok_c", Kind::real, false, true},
    {"exhaust_fan_relay", Kind::text, true}, {"fan_speed_control", Kind::text}, {"fan_max_speed", Kind::integer},
    {"fan_stale_policy", Kind::text},
    {"heating_priority_1", Kind::text}, {"heating_priority_2", Kind::text}, {"heat_miner", Kind::text, true},
    {"heater_relay", Kind::text, true}, {"heater_stale_policy", Kind::text},
    {"minimum_solar_for_heating_w", Kind::real}, {"block_charging_below_c", Kind::real, true},
    {"heater_power_w", Kind::real},
};

}  // namespace

const std::vector<Field>& site_fields() { return kSite; }
const std::vector<Field>& miner_fields() { return kMiner; }
const std::vector<Field>& zone_fields() { return kZone; }

std::size_t index_of(const std::vector<Field>& fields, std::string_view name) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  return fields.size();
}

Row site_row(const StoredProfiles& p) {
  const auto& s = p.rules.site;
  const auto& t = s.thresholds;
  return {s.curve[0].v, s.curve[1].v, s.curve[2].v, s.curve[3].v, s.curve[4].v, s.curve[5].v,
          t.shutdown_v, t.critical_low_v, t.low_v, t.restart_v, t.optimal_min_v, t.optimal_max_v,
          t.float_v, t.absorption_v, t.full_v,
          p.site.timezone, opt(p.site.latitude), opt(p.site.longitude),
          std::string(mode_name(s.mode)), p.site.display,
          s.source_disagreement_v, s.internal_resistance_ohm, s.mode_margin_v, s.plausible_min_v, s.plausible_max_v,
          whole_seconds(s.electrical_stale_after), whole_seconds(s.temperature_stale_after),
          whole_seconds(s.stagger), whole_seconds(s.stale_hold_max), whole_seconds(s.sunny_window),
          s.block_charging_hysteresis_c, whole_seconds(s.hvac_timing.min_on), whole_seconds(s.hvac_timing.min_off),
          s.load_start_margin_v,
          whole_seconds(s.probe_settle), s.probe_max_discharge_a, s.probe_max_ah, s.probe_margin_v,
          whole_seconds(s.probe_backoff_min), whole_seconds(s.probe_backoff_max)};
}

void site_from_row(const Row& row, StoredProfiles& p, std::vector<std::string>& errors) {
  const Reader r{row, kSite, "site", errors};
  auto& s = p.rules.site;
  // The database keeps the curve at the source design's six SOC points.
  constexpr double kSoc[] = {0, 15, 40, 60, 80, 100};
  const char* names[] = {"curve_v_0", "curve_v_15", "curve_v_40", "curve_v_60", "curve_v_80", "curve_v_100"};
  for (std::size_t i = 0; i < 6; ++i) s.curve[i] = {r.real(names[i]), kSoc[i]};
  auto& t = s.thresholds;
  t.shutdown_v = r.real("voltage_shutdown");
  t.critical_low_v = r.real("voltage_critical_low");
  t.low_v = r.real("voltage_low");
  t.restart_v = r.real("voltage_restart");
  t.optimal_min_v = r.real("voltage_optimal_min");
  t.optimal_max_v = r.real("voltage_optimal_max");
  t.float_v = r.real("voltage_float");
  t.absorption_v = r.real("voltage_absorption");
  t.full_v = r.real("voltage_full");
  p.site.timezone = r.text("timezone");
  p.site.latitude = r.opt_real("latitude");
  p.site.longitude = r.opt_real("longitude");
  s.mode = r.choice("operating_mode", parse_mode, rules::OperatingMode::balanced,
                    "aggressive, balanced, conservative or opportunistic");
  p.site.display = r.text("display");
  s.source_disagreement_v = r.real("source_disagreement_v");
  s.internal_resistance_ohm = r.real("internal_resistance_ohm");
  s.mode_margin_v = r.real("mode_margin_v");
  s.plausible_min_v = r.real("plausible_min_v");
  s.plausible_max_v = r.real("plausible_max_v");
  s.electrical_stale_after = seconds(r.integer("electrical_stale_after_s"));
  s.temperature_stale_after = seconds(r.integer("temperature_stale_after_s"));
  s.stagger = seconds(r.integer("stagger_s"));
  s.stale_hold_max = seconds(r.integer("stale_hold_max_s"));
  s.sunny_window = seconds(r.integer("sunny_window_s"));
  s.block_charging_hysteresis_c = r.real("block_charging_hysteresis_c");
  s.hvac_timing.min_on = seconds(r.integer("hvac_min_on_s"));
  s.hvac_timing.min_off = seconds(r.integer("hvac_min_off_s"));
  s.load_start_margin_v = r.real("load_start_margin_v");
  s.probe_settle = seconds(r.integer("probe_settle_s"));
  s.probe_max_discharge_a = r.real("probe_max_discharge_a");
  s.probe_max_ah = r.real("probe_max_ah");
  s.probe_margin_v = r.real("probe_margin_v");
  s.probe_backoff_min = seconds(r.integer("probe_backoff_min_s"));
  s.probe_backoff_max = seconds(r.integer("probe_backoff_max_s"));
}

Row miner_row(const StoredProfiles& p, std::size_t i) {
  const auto& m = p.rules.miners[i];
  const auto& x = p.miners[i];
  return {m.name, x.model, opt(x.hashrate_th), m.power_w, flag(m.enabled), std::int64_t{m.priority},
          m.start_v, m.stop_v, m.emergency_stop_v,
          flag(m.require_excess_solar), m.minimum_excess_w, m.minimum_solar_w, flag(m.require_sunny),
          schedule_text(m.schedule), flag(m.allow_outside_schedule), std::string(mode_name(m.mode)), x.relay_id,
          whole_seconds(m.timing.min_on), whole_seconds(m.timing.min_off), whole_seconds(m.timing.start_delay),
          whole_seconds(m.timing.stop_delay), std::int64_t{m.timing.max_starts_per_hour},
          std::string(stale_name(m.stale_policy)), flag(m.probe_hidden_surplus)};
}

void miner_from_row(const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& errors) {
  auto& m = p.rules.miners[i];
  auto& x = p.miners[i];
  const Reader name_reader{row, kMiner, "", errors};
  m.name = name_reader.text("name");
  const Reader r{row, kMiner, fmt::format("miner '{}'", m.name), errors};
  x.model = r.text("model");
  x.hashrate_th = r.opt_real("hashrate_th");
  m.power_w = r.real("power_w");
  m.enabled = r.boolean("enabled");
  m.priority = r.small("priority");
  m.start_v = r.real("start_voltage");
  m.stop_v = r.real("stop_voltage");
  m.emergency_stop_v = r.real("emergency_stop_voltage");
  m.require_excess_solar = r.boolean("require_excess_solar");
  m.minimum_excess_w = r.real("minimum_excess_w");
  m.minimum_solar_w = r.real("minimum_solar_w");
  m.require_sunny = r.boolean("require_sunny");
  m.probe_hidden_surplus = r.boolean("probe_hidden_surplus");
  std::string why;
  if (auto windows = parse_schedule(r.text("schedule"), why)) {
    m.schedule = *windows;
  } else {
    errors.push_back(fmt::format("{}: schedule {}", r.who, why));
  }
  m.allow_outside_schedule = r.boolean("allow_outside_schedule");
  m.mode = r.choice("operating_mode", parse_mode, rules::OperatingMode::balanced,
                    "aggressive, balanced, conservative or opportunistic");
  x.relay_id = r.text("relay_id");
  m.timing.min_on = seconds(r.integer("min_on_s"));
  m.timing.min_off = seconds(r.integer("min_off_s"));
  m.timing.start_delay = seconds(r.integer("start_delay_s"));
  m.timing.stop_delay = seconds(r.integer("stop_delay_s"));
  m.timing.max_starts_per_hour = r.small("max_starts_per_hour");
  m.stale_policy = r.choice("stale_policy", parse_stale, rules::StalePolicy::off, "off, hold or on");
}

Row zone_row(const StoredProfiles& p, std::size_t i) {
  const auto& z = p.rules.zones[i];
  const auto& x = p.zones[i];
  Value heat_miner;
  if (z.heat_miner && *z.heat_miner < p.rules.miners.size()) heat_miner = p.rules.miners[*z.heat_miner].name;
  return {z.name, flag(z.enabled), x.zone_type, x.sensor_id, z.too_hot_c, z.hot_ok_c, z.too_cold_c, z.cold_ok_c,
          opt(x.exhaust_fan_relay), std::string(z.fan_speed_control ? "auto" : "none"),
          std::int64_t{z.fan_max_speed}, std::string(stale_name(z.fan_stale_policy)),
          std::string(heat_source_name(z.heating_priority[0])), std::string(heat_source_name(z.heating_priority[1])),
          heat_miner, opt(x.heater_relay), std::string(stale_name(z.heater_stale_policy)),
          z.minimum_solar_for_heating_w, opt(z.block_charging_below_c), z.heater_power_w};
}

void zone_from_row(const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& errors) {
  auto& z = p.rules.zones[i];
  auto& x = p.zones[i];
  const Reader name_reader{row, kZone, "", errors};
  z.name = name_reader.text("name");
  const Reader r{row, kZone, fmt::format("zone '{}'", z.name), errors};
  z.enabled = r.boolean("enabled");
  x.zone_type = r.text("zone_type");
  x.sensor_id = r.text("sensor_id");
  z.too_hot_c = r.real("too_hot_c");
  z.hot_ok_c = r.real("hot_ok_c");
  z.too_cold_c = r.real("too_cold_c");
  z.cold_ok_c = r.real("cold_ok_c");
  x.exhaust_fan_relay = r.opt_text("exhaust_fan_relay");
  const std::string speed = r.text("fan_speed_control");
  if (speed != "auto" && speed != "none") {
    errors.push_back(fmt::format("{}: fan_speed_control '{}' must be auto or none", r.who, speed));
  }
  z.fan_speed_control = speed == "auto";
  z.fan_max_speed = r.small("fan_max_speed");
  z.fan_stale_policy = r.choice("fan_stale_policy", parse_stale, rules::StalePolicy::on, "off, hold or on");
  z.heating_priority[0] = r.choice("heating_priority_1", parse_heat_source, rules::HeatSource::none,
                                   "miner, heater or none");
  z.heating_priority[1] = r.choice("heating_priority_2", parse_heat_source, rules::HeatSource::none,
                                   "miner, heater or none");
  z.heat_miner.reset();
  if (auto name = r.opt_text("heat_miner")) {
    for (std::size_t k = 0; k < p.rules.miners.size(); ++k) {
      if (p.rules.miners[k].name == *name) z.heat_miner = k;
    }
    if (!z.heat_miner) errors.push_back(fmt::format("{}: heat_miner '{}' names no miner profile", r.who, *name));
  }
  x.heater_relay = r.opt_text("heater_relay");
  z.heater_stale_policy = r.choice("heater_stale_policy", parse_stale, rules::StalePolicy::off, "off, hold or on");
  z.minimum_solar_for_heating_w = r.real("minimum_solar_for_heating_w");
  z.heater_power_w = r.real("heater_power_w");
  z.block_charging_below_c = r.opt_real("block_charging_below_c");
  z.has_fan = x.exhaust_fan_relay.has_value();
  z.has_heater = x.heater_relay.has_value();
}

Row new_miner_row() {
  // The schema's column defaults (schema/0001_profiles.sql); required fields stay null.
  StoredProfiles p;
  rules::MinerProfile m;
  m.timing = {std::chrono::seconds(600), std::chrono::seconds(300), std::chrono::seconds(60),
              std::chrono::seconds(120), 4};
  p.rules.miners.push_back(m);
  p.miners.emplace_back();
  Row row = miner_row(p, 0);
  for (std::size_t i = 0; i < kMiner.size(); ++i) {
    if (kMiner[i].required) row[i] = Value();
  }
  return row;
}

Row new_zone_row() {
  StoredProfiles p;
  p.rules.zones.emplace_back();
  p.zones.emplace_back();
  Row row = zone_row(p, 0);
  for (std::size_t i = 0; i < kZone.size(); ++i) {
    if (kZone[i].required) row[i] = Value();
  }
  return row;
}

}  // namespace shackd::rows

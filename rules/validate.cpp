#include "rules/validate.hpp"

#include <cmath>
#include <set>

#include "rules/detail.hpp"
#include "rules/format.hpp"
#include "rules/soc.hpp"

// Messages use the names a site owner edits (YAML keys and database columns), not the C++
// member names: "miner 'Dump Load S19 #1': stop_voltage 55.0 must be below start_voltage 54.5".
namespace rules {

namespace {

std::string num(double v) { return format_value(v); }
std::string secs(Duration d) { return format_value(to_seconds(d)); }

class Checker {
 public:
  Checker(std::vector<std::string>& out, std::string where) : out_(out), where_(std::move(where)) {}

  void fail(const std::string& what) { out_.push_back(where_ + ": " + what); }

  // a < b (strict) or a <= b, naming both fields and the rule they belong to.
  void ordered(const char* a_name, double a, const char* b_name, double b, bool strict, const std::string& rule) {
    if (strict ? a < b : a <= b) return;
    fail(std::string(a_name) + " " + num(a) + (strict ? " must be below " : " must not be above ") + b_name + " " +
         num(b) + " (rule: " + rule + ")");
  }
  void finite(const char* name, double v) {
    if (!std::isfinite(v)) fail(std::string(name) + " must be a number");
  }
  void at_least(const char* name, double v, double min) {
    if (!(v >= min)) fail(std::string(name) + " " + num(v) + " must be at least " + num(min));
  }
  void positive(const char* name, double v) {
    if (!(v > 0)) fail(std::string(name) + " " + num(v) + " must be above 0");
  }
  // A voltage the bank can never show (485.0 for 48.5, a 12 V figure on a 48 V bank) is a typo,
  // not a threshold: refused with the bank's range named.
  void plausible(const char* name, double v, const SiteProfile& s) {
    if (!std::isfinite(v) || (v >= s.plausible_min_v && v <= s.plausible_max_v)) return;
    fail(std::string(name) + " " + num(v) + " V is outside the bank's plausible range " + num(s.plausible_min_v) +
         "-" + num(s.plausible_max_v) + " V (the site's plausible_min_v and plausible_max_v)");
  }
  void not_negative(const char* name, Duration d) {
    if (d.count() < 0) fail(std::string(name) + " " + secs(d) + " must not be negative");
  }
  void timing(const char* prefix, const Timing& t) {
    const std::string p(prefix);
    not_negative((p + "min_on_s").c_str(), t.min_on);
    not_negative((p + "min_off_s").c_str(), t.min_off);
    not_negative((p + "start_delay_s").c_str(), t.start_delay);
    not_negative((p + "stop_delay_s").c_str(), t.stop_delay);
    if (t.max_starts_per_hour < 0 || t.max_starts_per_hour > kMaxStartsPerHour) {
      fail(p + "max_starts_per_hour " + std::to_string(t.max_starts_per_hour) + " must be 0 (no limit) to " +
           std::to_string(kMaxStartsPerHour));
    }
  }

 private:
  std::vector<std::string>& out_;
  std::string where_;
};

void check_site(const SiteProfile& s, std::vector<std::string>& out) {
  Checker c(out, "site");
  if (auto err = check_curve(s.curve)) c.fail("battery " + *err);

  const auto& t = s.thresholds;
  const std::string rule =
      "voltage_shutdown < voltage_critical_low <= voltage_low < voltage_restart <= voltage_optimal_min < "
      "voltage_optimal_max <= voltage_float < voltage_absorption <= voltage_full";
  for (double v : {t.shutdown_v, t.critical_low_v, t.low_v, t.restart_v, t.optimal_min_v, t.optimal_max_v,
                   t.float_v, t.absorption_v, t.full_v}) {
    c.finite("each voltage threshold", v);
  }
  c.ordered("voltage_shutdown", t.shutdown_v, "voltage_critical_low", t.critical_low_v, true, rule);
  c.ordered("voltage_critical_low", t.critical_low_v, "voltage_low", t.low_v, false, rule);
  c.ordered("voltage_low", t.low_v, "voltage_restart", t.restart_v, true, rule);
  c.ordered("voltage_restart", t.restart_v, "voltage_optimal_min", t.optimal_min_v, false, rule);
  c.ordered("voltage_optimal_min", t.optimal_min_v, "voltage_optimal_max", t.optimal_max_v, true, rule);
  c.ordered("voltage_optimal_max", t.optimal_max_v, "voltage_float", t.float_v, false, rule);
  c.ordered("voltage_float", t.float_v, "voltage_absorption", t.absorption_v, true, rule);
  c.ordered("voltage_absorption", t.absorption_v, "voltage_full", t.full_v, false, rule);

  c.ordered("plausible_min_v", s.plausible_min_v, "plausible_max_v", s.plausible_max_v, true,
            "plausible_min_v < plausible_max_v");
  const char* names[] = {"voltage_shutdown", "voltage_critical_low", "voltage_low", "voltage_restart",
                         "voltage_optimal_min", "voltage_optimal_max", "voltage_float", "voltage_absorption",
                         "voltage_full"};
  const double values[] = {t.shutdown_v, t.critical_low_v, t.low_v, t.restart_v, t.optimal_min_v,
                           t.optimal_max_v, t.float_v, t.absorption_v, t.full_v};
  for (std::size_t i = 0; i < 9; ++i) c.plausible(names[i], values[i], s);
  c.positive("source_disagreement_v", s.source_disagreement_v);
  if (!(s.internal_resistance_ohm >= 0 && s.internal_resistance_ohm <= 1.0)) {
    c.fail("internal_resistance_ohm " + num(s.internal_resistance_ohm) +
           " must be between 0 and 1 (a 48 V bank has a few milliohm)");
  }
  c.at_least("mode_margin_v", s.mode_margin_v, 0);
  c.at_least("load_start_margin_v", s.load_start_margin_v, 0);
  c.at_least("block_charging_hysteresis_c", s.block_charging_hysteresis_c, 0);
  c.positive("electrical_stale_after_s", to_seconds(s.electrical_stale_after));
  c.positive("temperature_stale_after_s", to_seconds(s.temperature_stale_after));
  c.not_negative("stagger_s", s.stagger);
  c.not_negative("stale_hold_max_s", s.stale_hold_max);
  c.not_negative("sunny_window_s", s.sunny_window);
  c.positive("probe_settle_s", to_seconds(s.probe_settle));
  c.positive("probe_max_discharge_a", s.probe_max_discharge_a);
  c.positive("probe_max_ah", s.probe_max_ah);
  c.at_least("probe_margin_v", s.probe_margin_v, 0);
  c.positive("probe_backoff_min_s", to_seconds(s.probe_backoff_min));
  if (s.probe_backoff_max < s.probe_backoff_min) {
    c.fail("probe_backoff_max_s " + num(to_seconds(s.probe_backoff_max)) + " must be at least probe_backoff_min_s " +
           num(to_seconds(s.probe_backoff_min)));
  }
  c.timing("hvac_", s.hvac_timing);
}

void check_miner(const MinerProfile& m, std::size_t i, const SiteProfile& site, std::vector<std::string>& out) {
  const Thresholds& t = site.thresholds;
  Checker c(out, m.name.empty() ? "miner #" + std::to_string(i + 1) : "miner '" + m.name + "'");
  if (m.name.empty()) c.fail("name must not be empty");
  if (m.priority < 1 || m.priority > 10) {
    c.fail("priority " + std::to_string(m.priority) + " must be between 1 and 10 (1 runs first)");
  }
  for (double v : {m.start_v, m.stop_v, m.emergency_stop_v, m.power_w, m.minimum_excess_w, m.minimum_solar_w}) {
    c.finite("each voltage and power", v);
  }
  c.plausible("start_voltage", m.start_v, site);
  c.plausible("stop_voltage", m.stop_v, site);
  c.plausible("emergency_stop_voltage", m.emergency_stop_v, site);
  const std::string rule = "emergency_stop_voltage < stop_voltage < start_voltage";
  c.ordered("emergency_stop_voltage", m.emergency_stop_v, "stop_voltage", m.stop_v, true, rule);
  c.ordered("stop_voltage", m.stop_v, "start_voltage", m.start_v, true, rule);
  c.ordered("start_voltage", m.start_v, "the site's voltage_full", t.full_v, false,
            "a start above voltage_full is never reached");
  c.at_least("power_w", m.power_w, 0);
  // Its own draw must not pull the bank from its start back under its stop: it would flap.
  const double sag = own_sag_v(m.power_w, m.stop_v, site.internal_resistance_ohm);
  if (sag > 0 && m.start_v - m.stop_v <= sag) {
    c.fail("start_voltage " + num(m.start_v) + " is within its own sag (" + format_value(sag) + " V: power_w " +
           num(m.power_w) + " / " + num(m.stop_v) + " V x internal_resistance_ohm " +
           format_value(site.internal_resistance_ohm) + ") of stop_voltage " + num(m.stop_v) +
           ": it would stop itself; raise start_voltage above " + format_value(m.stop_v + sag));
  }
  c.at_least("minimum_excess_w", m.minimum_excess_w, 0);
  c.at_least("minimum_solar_w", m.minimum_solar_w, 0);
  if (m.require_excess_solar && !(m.minimum_excess_w > 0)) {
    c.fail("require_excess_solar needs minimum_excess_w above 0");
  }
  if (m.probe_hidden_surplus && !m.require_excess_solar && m.mode != OperatingMode::opportunistic) {
    c.fail("probe_hidden_surplus needs require_excess_solar (it probes for a surplus the chargers hide)");
  }
  if (m.target) {
    const PowerTarget& pt = *m.target;
    for (double v : {pt.min_w, pt.max_w, pt.step_w}) c.finite("each power target figure", v);
    c.positive("target min_w", pt.min_w);
    c.ordered("target min_w", pt.min_w, "target max_w", pt.max_w, true, "min_w < max_w");
    c.positive("target step_w", pt.step_w);
    if (pt.step_w > pt.max_w - pt.min_w) {
      c.fail("target step_w " + num(pt.step_w) + " must not be above max_w - min_w " + num(pt.max_w - pt.min_w));
    }
    c.positive("target raise_interval_s", to_seconds(pt.raise_interval));
    c.positive("target lower_interval_s", to_seconds(pt.lower_interval));
    if (!m.require_excess_solar && m.mode != OperatingMode::opportunistic) {
      c.fail("a power target needs require_excess_solar (it follows the solar surplus)");
    }
  }
  if (m.require_sunny && !(m.minimum_solar_w > 0)) {
    c.fail("require_sunny needs minimum_solar_w above 0 (sunny means PV steady above it)");
  }
  for (std::size_t k = 0; k < m.schedule.size(); ++k) {
    const auto& win = m.schedule[k];
    const std::string which = "schedule window " + std::to_string(k + 1);
    if (win.start_min < 0 || win.start_min >= 1440 || win.end_min < 0 || win.end_min >= 1440) {
      c.fail(which + " must lie within 00:00-23:59");
    } else if (win.start_min == win.end_min) {
      c.fail(which + " starts where it ends; for \"any time\" leave the schedule empty");
    }
  }
  c.timing("", m.timing);
  c.not_negative("max_runtime_s", m.max_run);
}

void check_zone(const ZoneProfile& z, std::size_t i, const std::vector<MinerProfile>& miners,
                std::vector<std::string>& out) {
  Checker c(out, z.name.empty() ? "zone #" + std::to_string(i + 1) : "zone '" + z.name + "'");
  if (z.name.empty()) c.fail("name must not be empty");
  for (double v : {z.too_hot_c, z.hot_ok_c, z.too_cold_c, z.cold_ok_c, z.minimum_solar_for_heating_w}) {
    c.finite("each temperature and power", v);
  }
  c.ordered("too_cold_c", z.too_cold_c, "cold_ok_c", z.cold_ok_c, true, "too_cold_c < cold_ok_c");
  c.ordered("hot_ok_c", z.hot_ok_c, "too_hot_c", z.too_hot_c, true, "hot_ok_c < too_hot_c");
  c.ordered("cold_ok_c", z.cold_ok_c, "hot_ok_c", z.hot_ok_c, true, "heating must stop before cooling starts");
  c.at_least("minimum_solar_for_heating_w", z.minimum_solar_for_heating_w, 0);
  c.at_least("heater_power_w", z.heater_power_w, 0);
  if (z.block_charging_below_c && !std::isfinite(*z.block_charging_below_c)) {
    c.fail("block_charging_below_c must be a number");
  }
  if (z.has_fan && (z.fan_max_speed < 1 || z.fan_max_speed > 100)) {
    c.fail("fan_max_speed " + std::to_string(z.fan_max_speed) + " must be between 1 and 100");
  }
  const auto& p = z.heating_priority;
  if (p[0] != HeatSource::none && p[0] == p[1]) c.fail("heating_priority names the same source twice");
  if (p[0] == HeatSource::none && p[1] != HeatSource::none) c.fail("heating_priority 2 is set but priority 1 is none");
  bool needs_miner = false, needs_heater = false;
  for (HeatSource src : p) {
    needs_miner = needs_miner || src == HeatSource::miner;
    needs_heater = needs_heater || src == HeatSource::heater;
  }
  if (needs_miner && (!z.heat_miner || *z.heat_miner >= miners.size())) {
    c.fail("heating_priority names a miner, but heat_miner names no configured miner");
  }
  if (needs_heater && !z.has_heater) c.fail("heating_priority names a heater, but the zone has no heater_relay");
}

// The longest source name that still fits a reason's subject with its phase (" L3").
constexpr std::size_t kMaxAcNameChars = 20;

void check_ac_sources(const Profiles& p, std::vector<std::string>& out) {
  if (p.ac_sources.size() > kMaxAcSources) {
    out.push_back("ac_sources: " + std::to_string(p.ac_sources.size()) + " sources, at most " +
                  std::to_string(kMaxAcSources) + " are supported");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < p.ac_sources.size(); ++i) {
    const AcSource& a = p.ac_sources[i];
    Checker c(out, a.name.empty() ? "ac source #" + std::to_string(i + 1) : "ac source '" + a.name + "'");
    if (a.name.empty()) c.fail("name must not be empty");
    if (a.name.size() > kMaxAcNameChars) {
      c.fail("name is " + std::to_string(a.name.size()) + " characters, at most " + std::to_string(kMaxAcNameChars));
    }
    if (!a.name.empty() && !names.insert(a.name).second) c.fail("name is used twice");
    if (a.phases < 1 || a.phases > kMaxAcPhases) {
      c.fail("phases " + std::to_string(a.phases) + " must be 1, 2 (split phase) or 3");
    }
    for (double v : {a.continuous_w, a.surge_w, a.margin_w}) c.finite("each power", v);
    // A megawatt per phase is no off-grid source: a typo (a unit slip: 5000 kW for 5000 W).
    if (!(a.continuous_w >= 0 && a.continuous_w <= 1e6)) {
      c.fail("continuous_w " + num(a.continuous_w) + " must be 0 (not known) to 1000000 W per phase");
    }
    if (a.surge_w != 0 && a.surge_w < a.continuous_w) {
      c.fail("surge_w " + num(a.surge_w) + " must be 0 (not known) or at least continuous_w " + num(a.continuous_w));
    }
    c.at_least("margin_w", a.margin_w, 0);
    if (a.continuous_w > 0 && !(a.margin_w < a.continuous_w)) {
      c.fail("margin_w " + num(a.margin_w) + " must be below continuous_w " + num(a.continuous_w) +
             " (nothing could ever start)");
    }
    c.not_negative("overload_tolerance_s", a.overload_tolerance);
    c.not_negative("overload_hold_s", a.overload_hold);
  }
}

// A load's feed names a source and phase that exist, and on a rated source its draw is known and
// fits the rating at all.
void check_feed(Checker& c, const Profiles& p, const AcFeed& f, const char* source_field, const char* phase_field,
                const char* power_field, double draw_w, const char* start_field, double start_w) {
  const std::size_t count = p.ac_sources.empty() ? 1 : p.ac_sources.size();
  if (f.source >= count) {
    c.fail(std::string(source_field) + " #" + std::to_string(f.source + 1) + " names no configured AC source (" +
           std::to_string(count) + " configured)");
    return;
  }
  const AcSource& a = ac_source(p, f.source);
  if (a.kind == AcSourceKind::generator) {
    // It feeds the inverters' AC input: a load on an inverter is on it while it runs, and its
    // budget counts it there (ac_budget.cpp). "" names the first source: list an inverter first.
    c.fail(std::string(source_field) + " names generator '" + a.name +
           "': a generator feeds an inverter's AC input, not a load; name the inverter (the first source when empty)");
    return;
  }
  if (f.phase >= a.phases) {
    c.fail(std::string(phase_field) + " L" + std::to_string(f.phase + 1) + ": AC source '" + a.name + "' has " +
           std::to_string(a.phases) + (a.phases == 1 ? " phase" : " phases"));
    return;
  }
  if (a.surge_w > 0 && !(start_w + a.margin_w <= a.surge_w)) {
    // The surge test (ac_budget.cpp, AcCycle::hold_on) with nothing else on the phase.
    c.fail(std::string(start_field) + " " + num(start_w) + " plus margin_w " + num(a.margin_w) + " is above the surge_w " +
           num(a.surge_w) + " of AC source '" + a.name + "' " + phase_field + " L" + std::to_string(f.phase + 1) +
           ": it could never start (a start needs its start draw plus margin_w within the surge rating, with nothing "
           "else on)");
  }
  if (!(a.continuous_w > 0)) return;
  if (!(draw_w > 0)) {
    c.fail(std::string(power_field) + " " + num(draw_w) + " must be above 0: AC source '" + a.name +
           "' has a rating, and its budget needs the draw");
  } else if (draw_w + a.margin_w > a.continuous_w) {
    // The budget's own test (ac_budget.cpp, AcCycle::hold_on) with nothing else on the phase.
    c.fail(std::string(power_field) + " " + num(draw_w) + " plus margin_w " + num(a.margin_w) +
           " is above the continuous_w " + num(a.continuous_w) + " of AC source '" + a.name + "' " + phase_field + " L" +
           std::to_string(f.phase + 1) + ": it could never start (a start needs its draw plus margin_w within the "
           "continuous rating, with nothing else on)");
  }
}

}  // namespace

std::vector<std::string> validate(const Profiles& profiles) {
  std::vector<std::string> errors;
  check_site(profiles.site, errors);

  if (profiles.miners.size() > detail::kMaxMiners) {
    errors.push_back("miners: " + std::to_string(profiles.miners.size()) + " profiles, at most " +
                     std::to_string(detail::kMaxMiners) + " are supported");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < profiles.miners.size(); ++i) {
    const auto& m = profiles.miners[i];
    check_miner(m, i, profiles.site, errors);
    if (!m.name.empty() && !names.insert(m.name).second) errors.push_back("miner '" + m.name + "': name is used twice");
  }
  names.clear();
  check_ac_sources(profiles, errors);
  for (std::size_t i = 0; i < profiles.miners.size(); ++i) {
    const auto& m = profiles.miners[i];
    Checker c(errors, m.name.empty() ? "miner #" + std::to_string(i + 1) : "miner '" + m.name + "'");
    const char* power = m.target ? "the larger of power_w and target max_w" : "power_w";
    if (m.start_w && !(std::isfinite(*m.start_w) && *m.start_w >= 0)) c.fail("start_w " + num(*m.start_w) + " must be 0 or more");
    check_feed(c, profiles, m.feed, "source", "phase", power, detail::miner_start_draw_w(m), m.start_w ? "start_w" : power,
               detail::miner_surge_draw_w(m));
  }
  for (std::size_t i = 0; i < profiles.zones.size(); ++i) {
    const auto& z = profiles.zones[i];
    if (z.has_heater) {
      Checker c(errors, z.name.empty() ? "zone #" + std::to_string(i + 1) : "zone '" + z.name + "'");
      check_feed(c, profiles, z.heater_feed, "heater_source", "heater_phase", "heater_power_w", z.heater_power_w,
                 "heater_power_w", z.heater_power_w);
    }
  }
  for (std::size_t i = 0; i < profiles.zones.size(); ++i) {
    const auto& z = profiles.zones[i];
    check_zone(z, i, profiles.miners, errors);
    if (!z.name.empty() && !names.insert(z.name).second) errors.push_back("zone '" + z.name + "': name is used twice");
  }
  return errors;
}

}  // namespace rules

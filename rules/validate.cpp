#include "rules/validate.hpp"

#include <cmath>
#include <set>

#include "rules/detail.hpp"
#include "rules/format.hpp"
#include "rules/soc.hpp"

namespace rules {

namespace {

std::string v2(double v) { return format_fixed(v, 2); }

class Checker {
 public:
  explicit Checker(std::vector<std::string>& out) : out_(out) {}

  void fail(const std::string& where, const std::string& what) { out_.push_back(where + ": " + what); }

  // a < b (strict) or a <= b, naming both fields and the rule they belong to.
  void ordered(const std::string& where, const char* a_name, double a, const char* b_name, double b,
               bool strict, const char* rule) {
    const bool ok = strict ? a < b : a <= b;
    if (!ok) {
      fail(where, std::string(a_name) + " " + v2(a) + (strict ? " must be below " : " must not be above ") +
                      b_name + " " + v2(b) + " (rule: " + rule + ")");
    }
  }

  void finite(const std::string& where, const char* name, double v) {
    if (!std::isfinite(v)) fail(where, std::string(name) + " must be a finite number");
  }

  void at_least(const std::string& where, const char* name, double v, double min) {
    if (!(v >= min)) fail(where, std::string(name) + " " + v2(v) + " must be at least " + v2(min));
  }

  void duration(const std::string& where, const char* name, Duration d) {
    if (d.count() < 0) fail(where, std::string(name) + " must not be negative");
  }

  void timing(const std::string& where, const Timing& t) {
    duration(where, "min_on", t.min_on);
    duration(where, "min_off", t.min_off);
    duration(where, "start_delay", t.start_delay);
    duration(where, "stop_delay", t.stop_delay);
    if (t.max_starts_per_hour < 0 || t.max_starts_per_hour > kMaxStartsPerHour) {
      fail(where, "max_starts_per_hour " + std::to_string(t.max_starts_per_hour) + " must be 0 (no limit) to " +
                      std::to_string(kMaxStartsPerHour));
    }
  }

 private:
  std::vector<std::string>& out_;
};

void check_site(const SiteProfile& s, Checker& c) {
  if (auto err = check_curve(s.curve)) c.fail("site", *err);

  const auto& t = s.thresholds;
  const std::string w = "site.thresholds";
  const char* rule =
      "shutdown < critical_low <= low < restart <= optimal_min < optimal_max <= float < absorption <= full";
  for (double v : {t.shutdown_v, t.critical_low_v, t.low_v, t.restart_v, t.optimal_min_v, t.optimal_max_v,
                   t.float_v, t.absorption_v, t.full_v}) {
    c.finite(w, "threshold", v);
  }
  c.ordered(w, "shutdown_v", t.shutdown_v, "critical_low_v", t.critical_low_v, true, rule);
  c.ordered(w, "critical_low_v", t.critical_low_v, "low_v", t.low_v, false, rule);
  c.ordered(w, "low_v", t.low_v, "restart_v", t.restart_v, true, rule);
  c.ordered(w, "restart_v", t.restart_v, "optimal_min_v", t.optimal_min_v, false, rule);
  c.ordered(w, "optimal_min_v", t.optimal_min_v, "optimal_max_v", t.optimal_max_v, true, rule);
  c.ordered(w, "optimal_max_v", t.optimal_max_v, "float_v", t.float_v, false, rule);
  c.ordered(w, "float_v", t.float_v, "absorption_v", t.absorption_v, true, rule);
  c.ordered(w, "absorption_v", t.absorption_v, "full_v", t.full_v, false, rule);

  c.ordered("site", "plausible_min_v", s.plausible_min_v, "plausible_max_v", s.plausible_max_v, true,
            "plausible_min_v < plausible_max_v");
  if (!(s.source_disagreement_v > 0)) c.fail("site", "source_disagreement_v " + v2(s.source_disagreement_v) + " must be above 0");
  if (!(s.internal_resistance_ohm >= 0 && s.internal_resistance_ohm <= 1.0)) {
    c.fail("site", "internal_resistance_ohm " + format_fixed(s.internal_resistance_ohm, 4) +
                       " must be between 0 and 1 ohm (a 48 V bank is a few milliohm)");
  }
  c.at_least("site", "mode_margin_v", s.mode_margin_v, 0);
  c.at_least("site", "block_charging_hysteresis_c", s.block_charging_hysteresis_c, 0);
  if (s.block_charging_below_c) c.finite("site", "block_charging_below_c", *s.block_charging_below_c);
  if (s.electrical_stale_after.count() <= 0) c.fail("site", "electrical_stale_after must be above 0");
  if (s.temperature_stale_after.count() <= 0) c.fail("site", "temperature_stale_after must be above 0");
  c.duration("site", "stagger", s.stagger);
  c.duration("site", "stale_hold_max", s.stale_hold_max);
  c.duration("site", "sunny_window", s.sunny_window);
  c.timing("site.hvac_timing", s.hvac_timing);
}

void check_miner(const MinerProfile& m, std::size_t i, const Thresholds& t, Checker& c) {
  const std::string w = "miners[" + std::to_string(i) + "] \"" + m.name + "\"";
  if (m.name.empty()) c.fail(w, "name must not be empty");
  if (m.priority < 1 || m.priority > 10) {
    c.fail(w, "priority " + std::to_string(m.priority) + " must be between 1 and 10 (1 runs first)");
  }
  for (double v : {m.start_v, m.stop_v, m.emergency_stop_v, m.power_w, m.minimum_excess_w, m.minimum_solar_w}) {
    c.finite(w, "value", v);
  }
  const char* rule = "emergency_stop_v < stop_v < start_v";
  c.ordered(w, "emergency_stop_v", m.emergency_stop_v, "stop_v", m.stop_v, true, rule);
  c.ordered(w, "stop_v", m.stop_v, "start_v", m.start_v, true, rule);
  c.ordered(w, "start_v", m.start_v, "site full_v", t.full_v, false, "a start above full_v can never be reached");
  c.at_least(w, "power_w", m.power_w, 0);
  c.at_least(w, "minimum_excess_w", m.minimum_excess_w, 0);
  c.at_least(w, "minimum_solar_w", m.minimum_solar_w, 0);
  if (m.require_excess_solar && !(m.minimum_excess_w > 0)) {
    c.fail(w, "require_excess_solar needs minimum_excess_w above 0");
  }
  if (m.require_sunny && !(m.minimum_solar_w > 0)) {
    c.fail(w, "require_sunny needs minimum_solar_w above 0 (sunny = PV steady above it)");
  }
  for (std::size_t k = 0; k < m.schedule.size(); ++k) {
    const auto& win = m.schedule[k];
    const std::string ww = w + ".schedule[" + std::to_string(k) + "]";
    if (win.start_min < 0 || win.start_min >= 1440 || win.end_min < 0 || win.end_min >= 1440) {
      c.fail(ww, "start and end must be within 00:00-23:59 (minutes " + std::to_string(win.start_min) + ", " +
                     std::to_string(win.end_min) + ")");
    } else if (win.start_min == win.end_min) {
      c.fail(ww, "start equals end; for \"any time\" leave the schedule empty");
    }
  }
  c.timing(w, m.timing);
}

void check_zone(const ZoneProfile& z, std::size_t i, std::size_t miner_count, Checker& c) {
  const std::string w = "zones[" + std::to_string(i) + "] \"" + z.name + "\"";
  if (z.name.empty()) c.fail(w, "name must not be empty");
  for (double v : {z.too_hot_c, z.hot_ok_c, z.too_cold_c, z.cold_ok_c, z.minimum_solar_for_heating_w}) {
    c.finite(w, "value", v);
  }
  c.ordered(w, "too_cold_c", z.too_cold_c, "cold_ok_c", z.cold_ok_c, true, "too_cold < cold_ok");
  c.ordered(w, "hot_ok_c", z.hot_ok_c, "too_hot_c", z.too_hot_c, true, "hot_ok < too_hot");
  c.ordered(w, "cold_ok_c", z.cold_ok_c, "hot_ok_c", z.hot_ok_c, true, "heating must stop before cooling starts");
  c.at_least(w, "minimum_solar_for_heating_w", z.minimum_solar_for_heating_w, 0);
  if (z.has_fan && (z.fan_max_speed < 1 || z.fan_max_speed > 100)) {
    c.fail(w, "fan_max_speed " + std::to_string(z.fan_max_speed) + " must be between 1 and 100");
  }
  const auto& p = z.heating_priority;
  if (p[0] != HeatSource::none && p[0] == p[1]) c.fail(w, "heating priorities 1 and 2 name the same source");
  if (p[0] == HeatSource::none && p[1] != HeatSource::none) c.fail(w, "heating priority 2 is set but priority 1 is none");
  for (HeatSource src : p) {
    if (src == HeatSource::miner && (!z.heat_miner || *z.heat_miner >= miner_count)) {
      c.fail(w, "heating priority names a miner, but heat_miner does not name a configured miner");
    }
    if (src == HeatSource::heater && !z.has_heater) {
      c.fail(w, "heating priority names a heater, but the zone has no heater relay");
    }
  }
}

}  // namespace

std::vector<std::string> validate(const Profiles& profiles) {
  std::vector<std::string> errors;
  Checker c(errors);
  check_site(profiles.site, c);

  if (profiles.miners.size() > detail::kMaxMiners) {
    c.fail("miners", std::to_string(profiles.miners.size()) + " profiles, at most " +
                         std::to_string(detail::kMaxMiners) + " are supported");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < profiles.miners.size(); ++i) {
    check_miner(profiles.miners[i], i, profiles.site.thresholds, c);
    if (!names.insert(profiles.miners[i].name).second) {
      c.fail("miners[" + std::to_string(i) + "]", "name \"" + profiles.miners[i].name + "\" is used twice");
    }
  }
  names.clear();
  for (std::size_t i = 0; i < profiles.zones.size(); ++i) {
    check_zone(profiles.zones[i], i, profiles.miners.size(), c);
    if (!names.insert(profiles.zones[i].name).second) {
      c.fail("zones[" + std::to_string(i) + "]", "name \"" + profiles.zones[i].name + "\" is used twice");
    }
  }
  return errors;
}

}  // namespace rules

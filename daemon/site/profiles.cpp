#include "daemon/site/profiles.hpp"

#include <fmt/format.h>

#include <regex>

#include "daemon/site/profile_schema.hpp"
#include "rules/validate.hpp"

namespace shackd {

void StoredProfiles::sync_relays() {
  for (std::size_t i = 0; i < rules.zones.size() && i < zones.size(); ++i) {
    rules.zones[i].has_fan = zones[i].exhaust_fan_relay.has_value();
    rules.zones[i].has_heater = zones[i].heater_relay.has_value();
  }
}

std::vector<std::string> validate_stored(const StoredProfiles& p) {
  // Each value against its own field's range and words first (the schema's tables); then the
  // rules' checks, which say the same of a value out of its range in their own words: those are
  // left out ("miner 'X': priority 11 must be between 1 and 10" once, not twice).
  std::vector<std::string> errors = schema::check_values(p);
  std::vector<std::string> said;  // "miner 'X': priority "
  for (const auto& e : errors) said.push_back(e.substr(0, e.find(' ', e.find(": ") + 2) + 1));
  for (auto& problem : rules::validate(p.rules)) {
    bool again = false;
    for (const auto& prefix : said) again = again || problem.rfind(prefix, 0) == 0;
    if (!again) errors.push_back(std::move(problem));
  }
  static const std::regex tz(R"(^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$)");
  if (!std::regex_match(p.site.timezone, tz)) {
    errors.push_back(fmt::format("site: timezone '{}' is not a zone name like America/Los_Angeles or UTC",
                                 p.site.timezone));
  }
  return errors;
}

std::vector<std::string> effective_threshold_lines(const StoredProfiles& p) {
  std::vector<std::string> out;
  for (const auto& m : p.rules.miners) {
    if (!m.enabled) {
      out.push_back(fmt::format("miner '{}': disabled", m.name));
      continue;
    }
    const auto e = rules::effective_thresholds(m, p.rules.site);
    out.push_back(fmt::format("miner '{}' ({}): starts at {:.2f} V, stops below {:.2f} V, off at once below {:.2f} V{}",
                              m.name, mode_name(m.mode), e.start_v, e.stop_v, m.emergency_stop_v,
                              e.needs_surplus ? fmt::format(", needs {:.0f} W of solar surplus", e.minimum_excess_w) : ""));
  }
  for (const auto& z : p.rules.zones) {
    if (!z.enabled || !z.has_heater) continue;
    out.push_back(fmt::format("zone '{}' heater: starts at {:.2f} V, stops below {:.2f} V", z.name,
                              rules::heater_start_v(p.rules.site, z), p.rules.site.thresholds.low_v));
  }
  return out;
}

std::string schedule_text(const std::vector<rules::TimeWindow>& windows) {
  std::string out;
  for (const auto& w : windows) {
    if (!out.empty()) out += ',';
    out += fmt::format("{:02}:{:02}-{:02}:{:02}", w.start_min / 60, w.start_min % 60, w.end_min / 60, w.end_min % 60);
  }
  return out;
}

std::optional<std::vector<rules::TimeWindow>> parse_schedule(const std::string& text, std::string& error) {
  std::vector<rules::TimeWindow> out;
  if (text.empty()) return out;
  static const std::regex window(R"(^\s*([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})\s*$)");
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    std::smatch m;
    if (!std::regex_match(part, m, window)) {
      error = fmt::format("'{}' is not a window like 18:00-10:00", part);
      return std::nullopt;
    }
    const int h1 = std::stoi(m[1]), m1 = std::stoi(m[2]), h2 = std::stoi(m[3]), m2 = std::stoi(m[4]);
    if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) {
      error = fmt::format("'{}' is not a time of day (00:00 to 23:59)", part);
      return std::nullopt;
    }
    out.push_back({h1 * 60 + m1, h2 * 60 + m2});
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

const char* mode_name(rules::OperatingMode m) {
  switch (m) {
    case rules::OperatingMode::aggressive: return "aggressive";
    case rules::OperatingMode::balanced: return "balanced";
    case rules::OperatingMode::conservative: return "conservative";
    case rules::OperatingMode::opportunistic: return "opportunistic";
  }
  return "balanced";
}
std::optional<rules::OperatingMode> parse_mode(const std::string& s) {
  for (auto m : {rules::OperatingMode::aggressive, rules::OperatingMode::balanced, rules::OperatingMode::conservative,
                 rules::OperatingMode::opportunistic}) {
    if (s == mode_name(m)) return m;
  }
  return std::nullopt;
}

const char* stale_name(rules::StalePolicy p) {
  switch (p) {
    case rules::StalePolicy::off: return "off";
    case rules::StalePolicy::hold: return "hold";
    case rules::StalePolicy::on: return "on";
  }
  return "off";
}
std::optional<rules::StalePolicy> parse_stale(const std::string& s) {
  for (auto p : {rules::StalePolicy::off, rules::StalePolicy::hold, rules::StalePolicy::on}) {
    if (s == stale_name(p)) return p;
  }
  return std::nullopt;
}

const char* heat_source_name(rules::HeatSource h) {
  switch (h) {
    case rules::HeatSource::none: return "none";
    case rules::HeatSource::miner: return "miner";
    case rules::HeatSource::heater: return "heater";
  }
  return "none";
}
std::optional<rules::HeatSource> parse_heat_source(const std::string& s) {
  for (auto h : {rules::HeatSource::none, rules::HeatSource::miner, rules::HeatSource::heater}) {
    if (s == heat_source_name(h)) return h;
  }
  return std::nullopt;
}

}  // namespace shackd

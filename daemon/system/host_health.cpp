#include "daemon/system/host_health.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "drivers/text/json_in.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

std::uint64_t HostHealth::next_version() {
  static std::atomic<std::uint64_t> next{0};
  return ++next;
}

HostHealth::HostHealth(HostConfig c, bool discover) : config_(std::move(c)) {
  if (config_.enabled && discover) {
    sources_ = drivers::host::discover_host(config_.root);
    discovered_ = true;
  }
}

std::vector<rules::HostAlarmChange> HostHealth::sample(rules::SteadyTime now) {
  if (!config_.enabled || (read_at_ && now - *read_at_ < config_.interval)) return {};
  if (!discovered_) {
    sources_ = drivers::host::discover_host(config_.root);
    discovered_ = true;
  }
  auto reading = drivers::host::read_host(sources_);
  return take(sources_, std::move(reading), now);
}

std::vector<rules::HostAlarmChange> HostHealth::take(drivers::host::HostSources sources,
                                                     drivers::host::HostReading reading, rules::SteadyTime now) {
  if (!config_.enabled) return {};
  sources_ = std::move(sources);
  discovered_ = true;
  read_at_ = now;
  version_ = next_version();
  reading_ = std::move(reading);
  // Said once while it lasts, again if it comes back: by its source, so that a file whose bytes
  // change at every read is one problem, not a line each read (issue 56).
  std::vector<std::string> now_told;
  for (const auto& p : reading_.problems) {
    if (std::find(told_.begin(), told_.end(), p.source) == told_.end() && problems_.size() < 32) problems_.push_back(p.text);
    now_told.push_back(p.source);
  }
  told_ = std::move(now_told);
  const rules::HostInputs in{.under_voltage = reading_.under_voltage,
                             .throttled = reading_.throttled,
                             .temp_c = reading_.soc_temp_c,
                             .life_used_pct = reading_.emmc_life_used_pct,
                             .pre_eol = reading_.emmc_pre_eol,
                             .written_bytes = reading_.written_bytes};
  return rules::host_health_step(state_, in, config_.limits, now);
}

std::optional<rules::Snapshot::ControllerHeat> HostHealth::shedding() const {
  if (!state_.shedding || !config_.limits.shed_above_c) return std::nullopt;
  return rules::Snapshot::ControllerHeat{reading_.soc_temp_c.value_or(*config_.limits.shed_above_c),
                                         *config_.limits.shed_above_c};
}

std::vector<std::string> HostHealth::take_problems() {
  std::vector<std::string> out;
  out.swap(problems_);
  return out;
}

std::string HostHealth::json() const {
  using nlohmann::json;
  const auto opt = [](const auto& v) { return v ? json(*v) : json(); };
  json j{{"under_voltage", opt(reading_.under_voltage)},
         {"throttled", opt(reading_.throttled)},
         {"soc_temp_c", reading_.soc_temp_c ? json(std::round(*reading_.soc_temp_c * 10) / 10) : json()},
         {"storage_life_used_pct", opt(reading_.emmc_life_used_pct)},
         {"storage_pre_eol", opt(reading_.emmc_pre_eol)},
         {"write_mb_per_h", state_.write_mb_per_h ? json(std::round(*state_.write_mb_per_h * 100) / 100) : json()},
         {"shedding", state_.shedding}};
  if (reading_.throttled_word) j["throttled_word"] = fmt::format("0x{:x}", *reading_.throttled_word);
  json alarms = json::array();
  for (std::size_t i = 0; i < rules::kHostAlarms; ++i) {
    if (state_.active[i]) alarms.push_back(rules::host_alarm_name(static_cast<rules::HostAlarm>(i)));
  }
  j["alarms"] = std::move(alarms);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> host_status_lines(const std::string& payload) {
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return {};
  const auto member = [&](const char* k) -> const nlohmann::json& {
    static const nlohmann::json none;
    const auto it = j.find(k);
    return it == j.end() ? none : *it;
  };
  std::vector<std::string> parts;
  if (const auto& t = member("soc_temp_c"); t.is_number()) parts.push_back(fmt::format("{:.1f} °C", t.get<double>()));
  if (const auto& u = member("under_voltage"); u.is_boolean()) parts.push_back(u.get<bool>() ? "UNDER-VOLTAGE" : "supply ok");
  if (const auto& t = member("throttled"); t.is_boolean()) parts.push_back(t.get<bool>() ? "THROTTLED" : "not throttled");
  if (const auto& l = member("storage_life_used_pct"); l.is_number_integer()) {
    parts.push_back(fmt::format("storage life used up to {} %", l.get<long long>()));
  }
  if (const auto& w = member("write_mb_per_h"); w.is_number()) parts.push_back(fmt::format("writes {:.1f} MB/h", w.get<double>()));
  if (const auto& s = member("shedding"); s.is_boolean() && s.get<bool>()) parts.push_back("LOADS SHED for its heat");
  std::string alarms;
  if (const auto& a = member("alarms"); a.is_array()) {
    for (const auto& x : a) {
      if (x.is_string()) alarms += (alarms.empty() ? "" : ", ") + drivers::text::clean_utf8(x.get<std::string>(), 40);
    }
  }
  if (parts.empty() && alarms.empty()) return {};
  std::string line = "controller: " + (parts.empty() ? std::string("-") : fmt::format("{}", fmt::join(parts, ", ")));
  if (!alarms.empty()) line += "; ALARM " + alarms;
  return {line};
}

}  // namespace shackd

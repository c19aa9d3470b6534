#include "rules/reason.hpp"

#include <cmath>

#include "rules/format.hpp"

namespace rules {

namespace {
struct CodeInfo {
  ReasonCode code;
  std::string_view name;
  std::string_view text;
  std::string_view unit;  // of value and limit
  int decimals;
};

// One row per code; the name is the stable wire form.
constexpr CodeInfo kCodes[] = {
    {ReasonCode::none, "none", "no reason", "", 0},
    {ReasonCode::running, "running", "running", "V", 2},
    {ReasonCode::override_on, "override_on", "manual override: on", "", 0},
    {ReasonCode::heating, "heating", "heating its zone", "°C", 1},
    {ReasonCode::too_hot, "too_hot", "zone too hot", "°C", 1},
    {ReasonCode::stale_hold, "stale_hold", "input stale: holding last state", "", 0},
    {ReasonCode::stale_on, "stale_on", "input stale: policy keeps it on", "", 0},
    {ReasonCode::start_delay_pending, "start_delay_pending", "start condition holds, waiting", "", 0},
    {ReasonCode::stop_delay_pending, "stop_delay_pending", "stop condition holds, waiting", "", 0},
    {ReasonCode::min_on_pending, "min_on_pending", "minimum on-time not reached", "", 0},
    {ReasonCode::min_off_pending, "min_off_pending", "minimum off-time not reached", "", 0},
    {ReasonCode::max_starts_reached, "max_starts_reached", "max starts per hour reached", "starts", 0},
    {ReasonCode::stagger_wait, "stagger_wait", "another load started recently", "", 0},
    {ReasonCode::idle, "idle", "not needed", "°C", 1},
    {ReasonCode::below_start_voltage, "below_start_voltage", "below start voltage", "V", 2},
    {ReasonCode::below_stop_voltage, "below_stop_voltage", "below stop voltage", "V", 2},
    {ReasonCode::emergency_stop, "emergency_stop", "below emergency stop voltage", "V", 2},
    {ReasonCode::critical_low, "critical_low", "battery critically low", "V", 2},
    {ReasonCode::shutdown, "shutdown", "battery at shutdown voltage", "V", 2},
    {ReasonCode::restart_lockout, "restart_lockout", "after shutdown, waiting for restart voltage", "V", 2},
    {ReasonCode::outside_schedule, "outside_schedule", "outside its schedule", "", 0},
    {ReasonCode::clock_unknown, "clock_unknown", "wall clock not trusted yet", "", 0},
    {ReasonCode::insufficient_surplus, "insufficient_surplus", "solar surplus too small", "W", 0},
    {ReasonCode::insufficient_solar, "insufficient_solar", "solar production too small", "W", 0},
    {ReasonCode::not_sunny, "not_sunny", "solar not steady long enough", "W", 0},
    {ReasonCode::stale_input, "stale_input", "input stale or missing", "", 0},
    {ReasonCode::override_off, "override_off", "manual override: off", "", 0},
    {ReasonCode::disabled, "disabled", "disabled in its profile", "", 0},
    {ReasonCode::heat_by_miner, "heat_by_miner", "its zone is heated by a miner", "", 0},
    {ReasonCode::cold_charge_block, "cold_charge_block", "kept off: battery too cold to charge", "°C", 1},
    {ReasonCode::probing_hidden_surplus, "probing_hidden_surplus",
     "probing hidden surplus (the chargers hold PV back): battery current", "A", 1},
    {ReasonCode::hidden_surplus, "hidden_surplus", "on hidden surplus (a probe held): battery current", "A", 1},
    {ReasonCode::probe_failed, "probe_failed", "hidden surplus not there", "A", 1},
    {ReasonCode::probe_backoff, "probe_backoff", "waiting before the next hidden-surplus probe", "", 0},
    {ReasonCode::chargers_tracking, "chargers_tracking", "the chargers no longer hold PV back", "A", 1},
    {ReasonCode::target_start, "target_start", "power target set at start", "W", 0},
    {ReasonCode::target_probe, "target_probe", "power target raised: the chargers hold PV back", "W", 0},
    {ReasonCode::target_surplus, "target_surplus", "power target follows the surplus", "W", 0},
    {ReasonCode::target_battery, "target_battery", "power target lowered: the battery pays", "A", 1},
    {ReasonCode::target_voltage, "target_voltage", "power target lowered: battery below start voltage", "V", 2},
    {ReasonCode::max_runtime, "max_runtime", "ran its longest run", "s", 0},
    {ReasonCode::target_wait, "target_wait", "power target change waits for the write limit", "W", 0},
    {ReasonCode::target_hold, "target_hold", "power target held", "W", 0},
    {ReasonCode::overheat, "overheat", "miner overheated: its hottest sensor", "°C", 1},
    {ReasonCode::controller_overheat, "controller_overheat", "loads shed: the controller's processor is too hot", "°C", 1},
    {ReasonCode::target_too_slow, "target_too_slow", "stopped: the battery paid while its target came down", "A", 1},
    {ReasonCode::target_follow, "target_follow", "power target raise waits for the miner to reach its target: it draws",
     "W", 0},
    {ReasonCode::ac_budget, "ac_budget", "start held: room left on", "W", 0},
    {ReasonCode::ac_overload, "ac_overload", "shed: overload on", "W", 0},
    {ReasonCode::ac_overload_hold, "ac_overload_hold", "start held: recent overload on", "W", 0},
    {ReasonCode::ac_load_unknown, "ac_load_unknown", "start held: AC load not known on", "W", 0},
    {ReasonCode::generator_never, "generator_never", "off (on_generator: never): the site runs on", "W", 0},
    {ReasonCode::generator_surplus, "generator_surplus",
     "off (on_generator: surplus_only): the sun's surplus does not cover it on", "W", 0},
    {ReasonCode::generator_unknown, "generator_unknown", "start held (on_generator): not known whether the site runs on",
     "W", 0},
    {ReasonCode::partial_sum, "partial_sum", "partial: a part of the PV sum is missing, PV is at least", "W", 0},
    {ReasonCode::voltage_disagreement, "voltage_disagreement", "battery voltage sources disagree", "V", 2},
    {ReasonCode::implausible_reading, "implausible_reading", "implausible battery voltage ignored", "V", 2},
    {ReasonCode::voltage_fallback, "voltage_fallback", "preferred voltage source stale, using a fallback", "", 0},
    {ReasonCode::no_voltage, "no_voltage", "no fresh battery voltage", "", 0},
    {ReasonCode::battery_too_cold, "battery_too_cold", "battery too cold to charge", "°C", 1},
    {ReasonCode::battery_temp_unknown, "battery_temp_unknown", "battery temperature unknown: charging blocked", "", 0},
    {ReasonCode::charge_ok, "charge_ok", "charging allowed", "°C", 1},
    {ReasonCode::ac_surge, "ac_surge", "start held: surge room left on", "W", 0},
    {ReasonCode::ac_heater_room, "ac_heater_room", "shed: room left for the heater of", "W", 0},
};

// The words before a limit, where "limit" alone would mislead: a running miner's limit is the
// voltage it stops below (not the one it started at), a heater's the temperature it heats to.
std::string_view limit_words(ReasonCode code) {
  switch (code) {
    case ReasonCode::running: return "stops below";
    case ReasonCode::heating: return "heats until";
    case ReasonCode::too_hot: return "on above";
    case ReasonCode::ac_budget:
    case ReasonCode::ac_load_unknown: return "the start needs";
    case ReasonCode::ac_overload: return "rating";
    case ReasonCode::ac_surge: return "its start draws";
    case ReasonCode::ac_heater_room: return "the heater needs";
    case ReasonCode::generator_surplus: return "it needs";
    default: return "limit";
  }
}

const CodeInfo& info(ReasonCode code) {
  for (const auto& row : kCodes) {
    if (row.code == code) return row;
  }
  return kCodes[0];
}
}  // namespace

void set_subject(Reason& r, std::string_view name, int phase_no) {
  r.subject.fill('\0');
  const std::size_t room = r.subject.size() - 1;  // the NUL
  std::size_t n = 0;
  for (char c : name) {
    if (n == room) break;
    r.subject[n++] = c;
  }
  if (phase_no > 0 && n + 3 <= room) {
    r.subject[n++] = ' ';
    r.subject[n++] = 'L';
    r.subject[n++] = static_cast<char>('0' + phase_no % 10);
  }
}

std::string_view subject_of(const Reason& r) {
  std::size_t n = 0;
  while (n < r.subject.size() && r.subject[n] != '\0') ++n;
  return {r.subject.data(), n};
}

std::string_view code_name(ReasonCode code) { return info(code).name; }

std::string describe(const Reason& reason) {
  const CodeInfo& row = info(reason.code);
  // A pending code reads its value and limit in the units of the condition it waits on.
  const CodeInfo& detail = reason.cause == ReasonCode::none ? row : info(reason.cause);
  std::string out(row.text);
  if (const std::string_view who = subject_of(reason); !who.empty()) {
    out += ' ';
    out += who;
  }
  // A cause that is itself a running state ("running", "too_hot") adds no words to a pending code.
  const bool cause_says_more = static_cast<int>(reason.cause) >= static_cast<int>(ReasonCode::start_delay_pending);
  if (cause_says_more) {
    out += " (";
    out += detail.text;
    out += ')';
  }
  const auto with_unit = [&](double x) {
    std::string s = format_fixed(x, detail.decimals);
    if (!detail.unit.empty()) {
      s += ' ';
      s += detail.unit;
    }
    return s;
  };
  // A pending code's limit is its cause's start or stop limit: plain "limit" there.
  const std::string words(reason.cause == ReasonCode::none ? limit_words(reason.code) : "limit");
  if (!std::isnan(reason.value)) out += ": " + with_unit(reason.value);
  if (!std::isnan(reason.limit)) out += " (" + words + " " + with_unit(reason.limit) + ")";
  if (reason.remaining.count() > 0) {
    out += ", " + format_fixed(to_seconds(reason.remaining), 0) + " s left";
  }
  return out;
}

bool is_safety_stop(ReasonCode code) {
  switch (code) {
    case ReasonCode::shutdown:
    case ReasonCode::restart_lockout:
    case ReasonCode::critical_low:
    case ReasonCode::emergency_stop:
    case ReasonCode::stale_input:
    case ReasonCode::overheat:
    case ReasonCode::ac_overload:  // the source shuts its output down within seconds of an overload
    case ReasonCode::ac_heater_room:  // a freezing zone's heater starts in the same cycle: the room must be there
    case ReasonCode::controller_overheat:  // the room around a miner is what cooks while a sleep is not answered
      return true;
    default:
      return false;
  }
}

}  // namespace rules

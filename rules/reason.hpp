#pragma once
// Why a load is in the state it is, every cycle, as a stable code plus numeric detail.
// Codes are part of the MQTT and database contract: never renumber, only append.
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "rules/time.hpp"

namespace rules {

enum class ReasonCode : std::uint16_t {
  none = 0,
  // running, or switched on
  running = 1,             // on; no stop condition holds
  override_on = 2,         // manual override
  heating = 3,             // on to heat its zone
  too_hot = 4,             // fan on: zone at or above too_hot
  stale_hold = 5,          // input stale, policy "hold" keeps the last state
  stale_on = 6,            // input stale, policy "on"
  probing_hidden_surplus = 7,  // on without the measured surplus, the chargers holding PV back: settling
  hidden_surplus = 8,          // on: a probe held (the battery did not discharge), so the surplus is there
  // waiting to switch
  start_delay_pending = 20,  // start condition holds, dwell not yet done (remaining)
  stop_delay_pending = 21,   // stop condition holds, still on (remaining)
  min_on_pending = 22,       // wants off, minimum on-time not yet done
  min_off_pending = 23,      // wants on, minimum off-time not yet done
  max_starts_reached = 24,   // wants on, starts in the last hour at the limit
  stagger_wait = 25,         // wants on, another load started less than `stagger` ago
  // off, and why
  idle = 40,                  // nothing asks for it (fan: temperature fine; heater: no demand)
  below_start_voltage = 41,
  below_stop_voltage = 42,
  emergency_stop = 43,        // below the load's emergency_stop_v: off at once
  critical_low = 44,          // below the site's critical_low: every load off at once
  shutdown = 45,              // at or below the site's shutdown voltage
  restart_lockout = 46,       // after a shutdown, waiting for restart_v
  outside_schedule = 47,
  clock_unknown = 48,         // scheduled load, wall clock not trusted yet
  insufficient_surplus = 49,
  insufficient_solar = 50,
  not_sunny = 51,
  stale_input = 52,           // an input is stale or missing, policy "off"
  override_off = 53,
  disabled = 54,
  heat_by_miner = 55,         // heater off: the zone's miner heats it
  cold_charge_block = 56,     // fan kept off: its zone holds a battery too cold to charge
  partial_sum = 57,           // as a cause: PV with a part of its sum missing is only a lower bound
  probe_failed = 58,          // a hidden-surplus probe or run ended: the battery discharged or sagged
  probe_backoff = 59,         // waiting before the next hidden-surplus probe (remaining)
  chargers_tracking = 60,     // as a cause: the chargers no longer hold PV back (they track all they can)
  // a power target (miners that follow the surplus): why it is what it is
  target_start = 61,          // set on start: the measured surplus, or the minimum for a probe
  target_probe = 62,          // raised a step: the chargers hold PV back and the bank does not pay
  target_surplus = 63,        // follows the measured surplus
  target_battery = 64,        // lowered: the battery discharges (value: A)
  target_voltage = 65,        // lowered a step: the battery is below the start voltage
  target_wait = 66,           // a wanted change waits for the write limit (remaining)
  target_hold = 67,           // nothing asks for a change
  overheat = 68,              // off: the miner's hottest sensor reached its limit (the firmware's own, or the owner's); cooling down (remaining)
  controller_overheat = 69,   // off: the controller's own processor is too hot and the owner sheds the loads (value and limit °C)
  target_too_slow = 70,       // off: the battery paid more than the probe's limit too long while its target came down (value: A)
  target_follow = 71,         // a raise waits: the miner's measured draw is not yet within a step of its target (value: W)
  max_runtime = 72,           // off: its run lasted its profile's longest run; min_off rests it (value and limit: s)
  // the AC source that feeds a load (rules/ac_budget.cpp); `subject` names the source and phase
  ac_budget = 73,             // start held: its draw would take the source past its continuous rating less the margin (value: room left W, limit: the draw W)
  ac_overload = 74,           // off at once: the source warns of an overload, or its load stayed above its rating (value: load W, limit: rating W)
  ac_overload_hold = 75,      // start held: the source was overloaded within its overload_hold (remaining)
  ac_load_unknown = 76,       // start held: the source has a rating but its load is not known (limit: the draw W)
  // a load's on_generator policy (rules/generator.cpp); `subject` names the generator
  generator_never = 77,       // off: a generator feeds the site and the load's policy is never
  generator_surplus = 78,     // off: on generator power, policy surplus_only, the sun's surplus does not cover it (value: surplus W, limit: its draw W)
  generator_unknown = 79,     // start held: a generator is configured and whether it runs is not known
  // alarms and site-level outputs
  voltage_disagreement = 80,  // two fresh sources differ by more than the tolerance
  implausible_reading = 81,   // a voltage outside the plausible range was ignored
  voltage_fallback = 82,      // the preferred source is stale; a lower one is used
  no_voltage = 83,            // no fresh, valid battery voltage at all
  battery_too_cold = 84,      // block_charging: battery below block_charging_below_c
  battery_temp_unknown = 85,  // block_charging: threshold set but no fresh temperature
  charge_ok = 86,
  // the AC source's surge rating (rules/ac_budget.cpp); `subject` names the source and phase
  ac_surge = 87,              // start held: its start draw would take the phase past surge_w less the margin, with this cycle's other starts (value: surge room left W, limit: its start draw W)
  ac_heater_room = 88,        // off at once: a freezing zone's heater on its source and phase needs the room; `subject` names the zone (value: room left W, limit: the heater's draw W)
};

struct Reason {
  ReasonCode code = ReasonCode::none;
  ReasonCode cause = ReasonCode::none;  // for *_pending codes: the condition being waited on
  double value = std::numeric_limits<double>::quiet_NaN();  // the measured input, if any
  double limit = std::numeric_limits<double>::quiet_NaN();  // the threshold it was held to
  Duration remaining{0};                                    // for *_pending codes
  // What the reason is about, where the code alone does not say: the AC source and phase
  // ("inverter L2"), NUL-terminated, truncated to fit. Fixed size: a Reason never allocates.
  std::array<char, 24> subject{};

  friend bool operator==(const Reason&, const Reason&) = default;
};

// Sets r.subject to `name` and, when phase_no > 0, " L<phase_no>", truncated to fit.
void set_subject(Reason& r, std::string_view name, int phase_no);
std::string_view subject_of(const Reason& r);

// Stable snake_case name, as published on MQTT ("below_start_voltage").
std::string_view code_name(ReasonCode code);
// A stop for the battery's, the inputs' or the load's own safety: shutdown, restart lockout,
// critical low, an emergency stop voltage, stale inputs, overheat. A miner's soft stop gives its
// API one cycle at most for these (daemon/miners/soft_stop.hpp).
bool is_safety_stop(ReasonCode code);
// A sentence for people: "below start voltage: 52.30 V < 54.50 V".
std::string describe(const Reason& reason);

}  // namespace rules

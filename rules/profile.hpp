#pragma once
// Site preferences, miner profiles and HVAC zones: the user data the rules decide with.
// Defaults for the Solar Shack are in docs/solar-shack.md; the store
// and config layers fill these structs and call rules::validate() before use.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rules/time.hpp"

namespace rules {

struct CurvePoint {
  double v = 0;
  double soc_pct = 0;
};
// The 6-point calibration curve (voltage -> SOC), strictly increasing in both columns,
// from 0 % to 100 %.
using VoltageCurve = std::array<CurvePoint, 6>;

// The nine ordered operating thresholds, volts. Order (checked by validate()):
// shutdown < critical_low <= low < restart <= optimal_min < optimal_max <= float < absorption <= full
struct Thresholds {
  double shutdown_v = 44.0;
  double critical_low_v = 45.0;
  double low_v = 47.0;
  double restart_v = 50.0;
  double optimal_min_v = 50.0;
  double optimal_max_v = 54.5;
  double float_v = 55.0;
  double absorption_v = 57.6;
  double full_v = 58.0;
};

enum class OperatingMode { aggressive, balanced, conservative, opportunistic };
// What a load does when an input it needs is stale or missing.
enum class StalePolicy { off, hold, on };

// A preferred window in local time, [start, end) minutes after midnight. end < start wraps
// midnight (18:00-10:00 is {1080, 600}).
struct TimeWindow {
  int start_min = 0;
  int end_min = 0;
};

// Switching limits shared by every kind of load.
struct Timing {
  Duration min_on = Seconds(0);
  Duration min_off = Seconds(0);
  Duration start_delay = Seconds(0);
  Duration stop_delay = Seconds(0);
  int max_starts_per_hour = 0;  // 0 = no limit; at most kMaxStartsPerHour
};
constexpr int kMaxStartsPerHour = 60;

struct SiteProfile {
  VoltageCurve curve{{{45.0, 0}, {47.0, 15}, {50.0, 40}, {51.5, 60}, {54.5, 80}, {56.0, 100}}};
  Thresholds thresholds;
  OperatingMode mode = OperatingMode::balanced;  // default for profiles that name none

  // Voltage sources.
  Duration electrical_stale_after = Seconds(30);  // voltage, current, PV, load
  Duration temperature_stale_after = Seconds(600);  // 2x a sensor relay's usual report period (300 s)
  double source_disagreement_v = 1.0;  // alarm when two fresh sources differ by more
  double plausible_min_v = 30.0;       // a reading outside this range is invalid (wrong
  double plausible_max_v = 70.0;       // scale, 0xFFFF, a bank disconnected from the shunt)
  double internal_resistance_ohm = 0.0;  // V_decide = V - I_charge * R; 0 turns it off

  // Mode effects (see docs/guide.md, "Operating modes").
  double mode_margin_v = 0.5;

  Duration stagger = Seconds(30);           // at most one load start per interval (inrush)
  Duration stale_hold_max = Seconds(300);   // "hold" keeps a load at most this long
  Duration sunny_window = Seconds(600);     // PV must stay above minimum this long to be sunny

  double block_charging_hysteresis_c = 2.0;  // cold-charge block released at threshold + this

  // Hidden surplus (miners with probe_hidden_surplus): while the chargers hold PV back, such a
  // miner may start without the measured surplus, as a probe. It stays when, for probe_settle,
  // the battery does not discharge more than probe_max_discharge_a, gives up no more than
  // probe_max_ah and holds above voltage_float - probe_margin_v; else it stops at once and the
  // next probe waits probe_backoff_min, doubling up to probe_backoff_max.
  Duration probe_settle = Seconds(60);
  double probe_max_discharge_a = 5.0;
  double probe_max_ah = 0.5;
  double probe_margin_v = 0.3;
  Duration probe_backoff_min = Seconds(600);
  Duration probe_backoff_max = Seconds(3600);

  // A heater starts at voltage_low + max(this, its own sag) and stops below voltage_low.
  double load_start_margin_v = 0.5;

  Timing hvac_timing{Seconds(60), Seconds(60), Seconds(0), Seconds(0), 0};
};

// An AC source that feeds loads: an inverter (or a parallel group of them), or a generator on an
// inverter's AC input. The rules hold a start that would take a phase past its continuous rating,
// and shed loads while the source warns of an overload (rules/ac_budget.cpp; docs/guide.md, "AC
// sources").
constexpr std::size_t kMaxAcSources = 4;
constexpr std::size_t kMaxAcPhases = 3;  // three-phase; split phase is 2 (L1, L2)
// A generator feeds no load directly: it feeds the inverters' AC input, and while it runs every
// load on an inverter is on it too (rules/ac_budget.cpp says what its budget counts).
enum class AcSourceKind { inverter, generator };
struct AcSource {
  std::string name = "inverter";  // for people and reasons: "inverter", "inverter L2"
  AcSourceKind kind = AcSourceKind::inverter;
  std::size_t phases = 1;
  // Per phase, watts. 0: not known, no budget (starts are not held for room), but the source's
  // own overload warnings still shed.
  double continuous_w = 0;
  // Per phase, watts, at least continuous_w; 0: not known, no surge test. A start waits unless
  // the phase's load, the start draws of this cycle's starts on it, its own start draw and
  // margin_w fit within it (ac_surge): a motor's or a PSU's inrush is what trips an inverter
  // whose continuous budget still holds. stagger_s spreads starts over cycles; with stagger_s 0
  // a cycle's start draws add up here.
  double surge_w = 0;
  double margin_w = 200;  // a start must leave this much of the continuous rating free
  // Measured load above continuous_w this long counts as an overload, as the source's warning does.
  Duration overload_tolerance = Seconds(10);
  // After an overload (its warning, or the tolerance run out) no start on the source or phase
  // for this long: what was shed must not come back the moment the warning clears.
  Duration overload_hold = Seconds(300);
};

// What a load does while a generator feeds the site (rules/generator.cpp; docs/guide.md, "On
// generator power"):
// - allow: it runs as it would, and the generator's rating holds (a start waits for room on it);
// - surplus_only: it runs only while the sun covers the site's whole consumption with it, so that
//   no generator energy goes into it (PV - the house - what runs before it >= its draw);
// - never: it stops, or does not start, while the generator runs.
enum class GeneratorPolicy { allow, surplus_only, never };

// Which source, and which of its phases (0 = L1), feeds a load. The default: the first source, L1.
struct AcFeed {
  std::size_t source = 0;
  std::size_t phase = 0;
  friend bool operator==(const AcFeed&, const AcFeed&) = default;
};

// A miner whose firmware follows a power target (watts): for it, the rules set a target within
// its range instead of only switching it (docs/guide.md, "Following the surplus").
struct PowerTarget {
  double min_w = 0;  // its lowest target; with less surplus it stops (asleep, then its relay)
  double max_w = 0;
  double step_w = 100;  // no change smaller than this (never below the firmware's own step)
  // Raises at least this far apart. A firmware may save every target to flash (which one, and
  // its source: ../shared/reference/miner-power-target.md, docs/protocols.md): 300 s is at most
  // 12 writes an hour, about 100,000 a year at worst, and a miner ramps for minutes after a
  // raise anyway.
  Duration raise_interval = Seconds(300);
  // Lowerings, when the bank pays, at least this far apart: sooner than raises, because the
  // battery pays while it waits; the stop voltages still act at once, by the relay.
  Duration lower_interval = Seconds(60);

  friend bool operator==(const PowerTarget&, const PowerTarget&) = default;
};

struct MinerProfile {
  std::string name;
  bool enabled = true;
  int priority = 5;  // 1 runs first, 10 last
  double power_w = 0;

  double start_v = 0;
  double stop_v = 0;
  double emergency_stop_v = 0;

  bool require_excess_solar = false;
  double minimum_excess_w = 0;
  double minimum_solar_w = 0;
  bool require_sunny = false;
  bool probe_hidden_surplus = false;  // with require_excess_solar: see SiteProfile::probe_settle
  // Set: the miner follows the surplus with its power target (needs require_excess_solar). Its
  // minimum_excess_w is then target->min_w, and its draw counts as its target, not power_w.
  std::optional<PowerTarget> target;

  std::vector<TimeWindow> schedule;  // empty = any time
  bool allow_outside_schedule = true;

  OperatingMode mode = OperatingMode::balanced;
  Timing timing;
  StalePolicy stale_policy = StalePolicy::off;
  // A run ends once it has lasted this long (through stop_delay and min_on like any stop), and
  // min_off rests the miner before its next start; 0: no limit. A generator ran 20 h because its
  // stop voltage was never reached while the cells balanced (the field survey's "max runtime",
  // ../shared/reference/field-survey.md, with its source).
  Duration max_run = Seconds(0);
  AcFeed feed;  // the AC source and phase that feeds it
  // What it draws for the first moments of a start (its PSU's inrush), tested against its
  // source's surge_w; unset: its rated draw (detail::miner_start_draw_w), so a site that gives
  // none decides as it did.
  std::optional<double> start_w;
  // Generator fuel spent on hashing is what a site owner least wants: a miner runs on generator
  // power only on the sun's surplus unless its owner says otherwise.
  GeneratorPolicy on_generator = GeneratorPolicy::surplus_only;
};

enum class HeatSource { none, miner, heater };


struct ZoneProfile {
  std::string name;
  bool enabled = true;  // false: its fan and heater are held off; its cold-charge limit still applies
  double too_hot_c = 40, hot_ok_c = 35;    // fan on at >= too_hot, off at <= hot_ok
  double too_cold_c = 0, cold_ok_c = 5;    // heat on at <= too_cold, off at >= cold_ok

  bool has_fan = false;
  bool fan_speed_control = false;
  int fan_max_speed = 10;
  StalePolicy fan_stale_policy = StalePolicy::on;  // cooling fails safe: on

  bool has_heater = false;
  double heater_power_w = 0;  // its draw; with the site's internal resistance, its own sag
  StalePolicy heater_stale_policy = StalePolicy::off;
  AcFeed heater_feed;  // the AC source and phase that feeds its heater (fans draw tens of watts: not budgeted)
  // A heater runs only for a zone at or below too_cold_c: it protects what freezes, and a
  // generator is what a cold dark site runs it on. Fans have no policy: they cool a room, stopping
  // them is never the safe side, and they draw tens of watts.
  GeneratorPolicy heater_on_generator = GeneratorPolicy::allow;
  std::array<HeatSource, 2> heating_priority{HeatSource::none, HeatSource::none};
  std::optional<std::size_t> heat_miner;  // index into Profiles::miners
  double minimum_solar_for_heating_w = 0;

  // Set for a zone that holds the battery: charging is blocked below this battery temperature
  // (LiFePO4: never charge below 0 °C), and the zone's exhaust fan stays off while it is.
  std::optional<double> block_charging_below_c;
};

// The voltage a load's own draw pulls the bank down by: watts / volts x the bank's internal
// resistance (0 when the resistance is not set).
double own_sag_v(double power_w, double bank_v, double internal_resistance_ohm);
// Where a heater starts: voltage_low plus the larger of the site's margin and its own sag.
double heater_start_v(const SiteProfile& site, const ZoneProfile& zone);

// A miner's thresholds after its operating mode (docs/guide.md, "Operating modes"): what decide() uses,
// and what `check` and `once` show.
struct EffectiveThresholds {
  double start_v;
  double stop_v;
  bool needs_surplus;
  double minimum_excess_w;
};
// `with_target` false: as a miner without its power target (one whose firmware does not follow it).
EffectiveThresholds effective_thresholds(const MinerProfile& m, const SiteProfile& site, bool with_target = true);

struct Profiles {
  SiteProfile site;
  std::vector<MinerProfile> miners;
  std::vector<ZoneProfile> zones;
  // Empty: one source, AcSource{} (a single-inverter site needs no configuration).
  std::vector<AcSource> ac_sources;
};
// The sources the rules decide with: `p.ac_sources`, or the one default.
std::size_t ac_source_count(const Profiles& p);
const AcSource& ac_source(const Profiles& p, std::size_t i);

// The Solar Shack defaults (solar-shack-defaults.md), with timing defaults of our own.
Profiles solar_shack_defaults();

}  // namespace rules

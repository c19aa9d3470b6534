#pragma once
// Internal to rules/: the pieces decide() is assembled from. Not for use outside rules/.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "rules/decision.hpp"
#include "rules/profile.hpp"
#include "rules/snapshot.hpp"

namespace rules::detail {

constexpr std::size_t kMaxMiners = 32;  // validate() refuses more
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline bool fresh(const std::optional<Reading>& r, SteadyTime now, Duration max_age) {
  return r && r->value == r->value /* not NaN */ && now - r->as_of <= max_age;
}
// Whether any source has ever given a reading (stale or not).
inline bool any_reading(const std::vector<Source>& sources) {
  for (const auto& s : sources) {
    if (s.reading) return true;
  }
  return false;
}
inline std::optional<double> fresh_value(const std::optional<Reading>& r, SteadyTime now, Duration max_age) {
  if (!fresh(r, now, max_age)) return std::nullopt;
  return r->value;
}

// A partial sum (a lower bound) as far as it proves "at least `min`": itself when it reaches
// `min` or is complete, else unknown.
inline std::optional<double> at_least(std::optional<double> value, bool partial, double min) {
  if (partial && value && *value < min) return std::nullopt;
  return value;
}

// ---- battery.cpp
// Picks the voltage source, compensates for load, derives SOC and band, raises alarms.
void assess_battery(const Snapshot& snap, const SiteProfile& site, BatteryView& out, std::vector<Reason>& alarms);
Band band_of(const Thresholds& t, double v);
// Latches the low-voltage lockout at shutdown, releases it at restart.
void update_lockout(const BatteryView& battery, const Thresholds& t, SiteState& site);
// Cold-charge protection; sets out.block_charging and out.charge_reason.
void assess_charging(const Snapshot& snap, const Profiles& p, const SiteState& prev, Decision& out);

// ---- schedule.cpp
bool in_windows(const std::vector<TimeWindow>& windows, int minute_of_day);

// ---- load_step.cpp
// What a load's conditions say this cycle, before the switching limits are applied.
struct LoadInputs {
  std::optional<Reason> force_off;  // off at once, ignoring min on-time and delays
  std::optional<Reason> force_on;   // on now (override, stale "on"); min off, max starts, stagger still apply
  std::optional<Reason> hold;       // keep the commanded state
  bool start_ok = false;            // every start condition holds
  Reason not_startable;             // the first start condition that fails
  bool stop_condition = false;      // a stop condition holds (only read while on)
  Reason stop_reason;
  Reason running_reason;            // reason while on and nothing wants it off
  Reason start_reason;              // detail while the start dwell runs (defaults to running_reason)
};

struct AcCycle;

struct StepContext {
  SteadyTime now;
  const Timing& timing;
  SiteState& site;       // last_start for stagger
  bool staggered;        // subject to the site's stagger interval
  Duration stagger;
  // Set: a start must also fit the AC budget of `feed` with `draw_w`, and its surge rating with
  // `start_w` (ac_budget.cpp).
  AcCycle* ac = nullptr;
  AcFeed feed{};
  double draw_w = 0;
  double start_w = 0;
};

// Advances one load: dwell timers, min on/off, max starts per hour, stagger.
void step_load(const StepContext& ctx, const LoadInputs& in, LoadState& st, LoadDecision& out);

// The stale-input policy as a LoadInputs verdict; tracks st.stale_since. An input never seen
// since start (`never_seen`: nullopt in the snapshot, not merely old) is the boot case: the
// policy does not apply, the load stays off, or stays on only while within its min on-time.
void apply_stale_policy(StalePolicy policy, SteadyTime now, Duration hold_max, bool never_seen, const Timing& timing,
                        LoadState& st, LoadInputs& in);

// Overrides past their expiry are returned to automatic.
void expire_override(SteadyTime now, LoadState& st);

// ---- miners.cpp
struct HeatCalls {
  std::array<bool, kMaxMiners> call{};
};
struct AcCycle;
void decide_miners(const Snapshot& snap, const Profiles& p, const HeatCalls& heat, const State& prev, AcCycle& ac,
                   Decision& out);
// True when the miner runs, or only waits on a timer: it can heat its zone soon.
bool miner_can_heat(const LoadDecision& d);

// ---- power_target.cpp
// The battery may pay more than the probe's limit (probe_max_discharge_a) for at most a minute
// while a miner's target comes down (issue 46: a miner whose firmware ramps down let it pay
// 14.6 A for 162 s in a cloud). The rules stop the miner at half of it; the other half is the
// soft stop's (sleep, then the relay: MinerFleet::after_cycle, daemon/miners/fleet.cpp, cuts within 20 s for it).
constexpr Duration kTargetPayMax = std::chrono::seconds(60);
constexpr Duration kTargetPayStop = kTargetPayMax / 2;

struct TargetInputs {
  SteadyTime now{};
  bool full = false;                // heating its zone or overridden on: its maximum
  ReasonCode full_reason = ReasonCode::none;
  std::optional<double> volts;      // the deciding voltage
  std::optional<double> amps;       // fresh battery current, + charging
  bool limiting = false;            // the chargers say, fresh, that they hold PV back
  std::optional<double> surplus_w;  // measured: PV less the house and higher priorities (its own draw is surplus)
  std::optional<double> draw_w;     // what the miner says it draws, fresh: a raise waits until it is near its target
  double start_v = 0;               // its effective start voltage
  double floor_v = 0;               // a full bank's floor (float less the probe margin)
  double max_discharge_a = 0;       // the probe's discharge limit
  Duration backoff_min{0}, backoff_max{0};  // the probe backoff, after a raise taken back
};
// The step onto the target grid at or below `w` (min + k * step), within [min, max].
double target_on_grid(const PowerTarget& t, double w);
// Sets d.target_w / target_changed / target_reason for a miner with a power target, after its
// on/off step; tracks the write limits in st.
void step_target(const PowerTarget& t, const TargetInputs& in, LoadState& st, LoadDecision& d);

// ---- ac_budget.cpp
// The AC sources this cycle: what each phase carries, whether it is overloaded, and which load
// each overload sheds. Built once per cycle before the loads are decided; fixed storage.
enum class LoadKind { miner, heater };
struct AcPhaseView {
  double continuous_w = 0;   // 0: no budget
  double margin_w = 0;
  std::optional<double> used_w;  // max(measured, what our loads on it are rated at) + starts this cycle
  std::optional<double> measured_w;
  double surge_w = 0;        // 0: no surge test
  double started_w = 0;      // the rated draws of this cycle's starts (in used_w)
  double start_draws_w = 0;  // the start draws of this cycle's starts
  bool overloaded = false;   // this cycle: a warning, an alarm, or over the rating past the tolerance
  bool leg_overloaded = false;  // this cycle: the phase's own word, or over its rating past the tolerance
  Duration hold_left{0};     // starts held this much longer after an overload
  int phase_no = 0;          // 0 for a one-phase source, else 1..3 (for the reason's subject)
};
struct AcVictim {
  LoadKind kind = LoadKind::miner;
  std::size_t index = 0;
  Reason reason;
};
// Whether a generator feeds the site this cycle (Snapshot::generator_running): not known only
// where one is configured; a site with none is off generator power for want of a word.
enum class GeneratorState { off, running, unknown };
// A generator's name in reasons until a configured one's is known. Initialised from a constant,
// not a literal: GCC 14 for armhf (trixie's cross compiler) warns "value computed is not used" on
// a std::string_view member initialised from a string literal (-Wunused-value, a false positive).
inline constexpr std::string_view kGeneratorName = "generator";

struct AcCycle {
  std::size_t sources = 0;
  GeneratorState generator = GeneratorState::off;
  bool generator_configured = false;  // a source of kind generator
  std::string_view generator_name = kGeneratorName;  // the first configured one's, for reasons
  std::array<std::array<AcPhaseView, kMaxAcPhases>, kMaxAcSources> phase{};
  std::array<const AcSource*, kMaxAcSources> source{};
  std::array<AcVictim, kMaxAcSources * (kMaxAcPhases + 1)> victims{};
  std::size_t victim_count = 0;
  // The miners shed this cycle to make room for a freezing zone's heater (make_heater_room): by
  // miner, 1 + the place of that heater's entry; 0: none. Compact, not a Reason a miner: decide()
  // makes an AcCycle every cycle. More heaters making room at once than entries wait as before.
  struct HeaterRoomShed {
    std::string_view zone;
    double room_w = 0;
    double draw_w = 0;
  };
  std::array<HeaterRoomShed, 4> heater_room{};
  std::size_t heater_room_count = 0;
  std::array<std::uint8_t, kMaxMiners> room_for{};

  // Nullopt when a start of `draw_w` (`start_w` for its first moments) on `feed` fits; else why
  // it waits.
  std::optional<Reason> hold(const AcFeed& feed, double draw_w, double start_w) const;
  // A start went ahead: its draws are taken from the room for the rest of the cycle (negative:
  // given back).
  void commit(const AcFeed& feed, double draw_w, double start_w);
  // A running load's draw (`draw_w`) leaves the phases of `feed` this cycle: used_w falls, this
  // cycle's starts and their start draws do not (negative: put back).
  void release(const AcFeed& feed, double draw_w);
  // The reason when this load is shed this cycle (an overload, or room for a heater).
  std::optional<Reason> shed(LoadKind kind, std::size_t index) const;
  // Whether phase `ph` of source `s` carries a load fed by `feed`: its own source and phase, or
  // a generator that runs (or may) feeding the inverter it is on.
  bool carries(std::size_t s, std::size_t ph, const AcFeed& feed) const;

 private:
  std::optional<Reason> hold_on(std::size_t s, std::size_t ph, double draw_w, double start_w) const;
  void commit_on(std::size_t s, std::size_t ph, double draw_w, double start_w);
  void release_on(std::size_t s, std::size_t ph, double draw_w);
};
// What a load counts for in the budget before it runs: its rating (a miner that follows a target
// its largest target, since its start may be at any of them).
double miner_start_draw_w(const MinerProfile& m);
// What it draws for the first moments of a start, tested against surge_w: its start_w, else the
// above.
double miner_surge_draw_w(const MinerProfile& m);
// Reads the sources' phases, tracks the overload timers in `site`, picks one load to shed per
// overloaded phase (and one per source-wide warning, across its legs, where no leg shed one): the lowest priority first, a load that
// heats a zone calling for heat last. `prev` says which loads are on.
void assess_ac(const Snapshot& snap, const Profiles& p, const State& prev, const HeatCalls& heat, SiteState& site,
               AcCycle& out);

// ---- generator.cpp
// What a load's on_generator policy says this cycle: nullopt (it may run, the budget still
// holds), or why it is off. `on`: the load was on; `surplus_w`: the sun's surplus left for it
// (PV less the house and what runs before it; nullopt: not known); `draw_w`: what it needs.
std::optional<Reason> generator_policy(const AcCycle& ac, GeneratorPolicy policy, bool on,
                                       std::optional<double> surplus_w, double draw_w);

// ---- hvac.cpp
void update_zone_demand(const Snapshot& snap, const Profiles& p, Decision& out);
HeatCalls heat_calls(const Snapshot& snap, const Profiles& p, const Decision& out);
void decide_zones(const Snapshot& snap, const Profiles& p, const State& prev, AcCycle& ac, Decision& out);
// The room a heater protecting a zone that calls for heat needs, held back from the miners while
// they decide (issue 59: such a heater is shed last, and it starts first too): each heater that
// is off, would be let run, heats its zone itself (not its miner), may start on the source it is
// on now (its heater_on_generator, on generator power) and fits its phase now. Given
// back before the zones decide, where the heater's own start takes it.
// Fixed size: decide() allocates nothing. More heaters than this calling at once (no site has
// them) are not held room for: they wait as before.
struct HeaterRoom {
  struct Held {
    AcFeed feed;
    double w = 0;
  };
  std::array<Held, 16> held{};
  std::size_t count = 0;
};
HeaterRoom reserve_heater_room(const Snapshot& snap, const Profiles& p, const HeatCalls& heat, const Decision& out,
                               AcCycle& ac);
void release_heater_room(const HeaterRoom& room, AcCycle& ac);
// A freezing zone's heater held for room (`held`: ac_budget or ac_surge) sheds the running
// discretionary miners on its own source and phase, lowest priority first, as many as its start
// needs (ac_heater_room, in `ac`: AcCycle::shed says it), and returns true; sheds none and returns false when
// even all of them would not make the room. Never shed: a miner that heats a zone calling for
// heat, or one overridden ON. A miner following a power target gives back its last target.
bool make_heater_room(const Profiles& p, const State& next, const HeatCalls& heat, std::string_view zone,
                      const AcFeed& feed, double draw_w, const Reason& held, AcCycle& ac);
// Whether a staggered load that is off and wants to start would pass its dwell, min off-time,
// max starts and the site's stagger this cycle (step_load's own tests, before the AC budget's).
bool start_due(SteadyTime now, const Timing& timing, const SiteState& site, Duration stagger, const LoadState& st);

}  // namespace rules::detail

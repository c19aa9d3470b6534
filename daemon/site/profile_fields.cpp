// The schema of the profiles (daemon/site/profile_schema.hpp): the site's preferences, a miner
// profile and an HVAC zone, one row per field, in the order of their columns and of
// `profiles export`. A new field is one row here and one migration in schema/ that adds its
// column with the same type, default and range (tests/store/profile_schema_test.cpp holds them
// together); docs/guide.md's key tables are made from these rows (tests/docs/config_keys.cpp).
#include <fmt/format.h>

#include "daemon/site/field_builders.hpp"

namespace shackd::schema {

namespace {

using namespace build;
using rules::HeatSource;
using rules::OperatingMode;
using rules::StalePolicy;
using S = rules::SiteProfile;
using M = rules::MinerProfile;
using Z = rules::ZoneProfile;
using T = rules::Timing;
using V = rules::Thresholds;

// The words of the rules' enums (functions: the tables may be asked for during another file's
// static initialisation, before this file's globals exist).
std::vector<std::pair<OperatingMode, std::string>> modes() {
  return {{OperatingMode::aggressive, "aggressive"}, {OperatingMode::balanced, "balanced"},
          {OperatingMode::conservative, "conservative"}, {OperatingMode::opportunistic, "opportunistic"}};
}
std::vector<std::pair<StalePolicy, std::string>> stale_policies() {
  return {{StalePolicy::off, "off"}, {StalePolicy::hold, "hold"}, {StalePolicy::on, "on"}};
}
std::vector<std::pair<rules::GeneratorPolicy, std::string>> generator_policies() {
  return {{rules::GeneratorPolicy::allow, "allow"},
          {rules::GeneratorPolicy::surplus_only, "surplus_only"},
          {rules::GeneratorPolicy::never, "never"}};
}
std::vector<std::pair<HeatSource, std::string>> heat_sources() {
  return {{HeatSource::miner, "miner"}, {HeatSource::heater, "heater"}, {HeatSource::none, "none"}};
}

// The battery's voltage at one of the curve's six SOC points (0, 15, 40, 60, 80, 100 %).
Field curve_point(std::string_view key, std::size_t k, double soc_pct, double seed_v) {
  Field f = custom(
      key, Type::real, "", [k](const StoredProfiles& p, std::size_t) -> Value { return p.rules.site.curve[k].v; },
      [k, soc_pct](StoredProfiles& p, std::size_t, const Value& v) {
        p.rules.site.curve[k] = {as_real(v), soc_pct};
        return std::string();
      });
  f.unit = "V";
  f.doc = "the SOC curve: the battery's voltage at this SOC (shown, never decided on)";
  f.fallback = seed_v;
  return f;
}

// A heating priority: which heat source the zone tries first or second.
Field heating_priority(std::string_view key, std::size_t k, const char* doc) {
  return choice(
             key, [k](auto& p, std::size_t i) -> auto& { return p.rules.zones[i].heating_priority[k]; }, heat_sources(), doc)
      .by_default("none");
}

}  // namespace

// Each table is made once and never destroyed: a thread still at work when the process ends (a
// publisher left to end on its own after a bounded stop) must find it whole, not freed by the
// exit's destructors (ThreadSanitizer saw the publisher read miner() while exit freed it).
const Entity& site() {
  static const Entity& e = *new Entity{
      "site",
      "site_preferences",
      {
          curve_point("curve_v_0", 0, 0, 45.0),
          curve_point("curve_v_15", 1, 15, 47.0),
          curve_point("curve_v_40", 2, 40, 50.0),
          curve_point("curve_v_60", 3, 60, 51.5),
          curve_point("curve_v_80", 4, 80, 54.5),
          curve_point("curve_v_100", 5, 100, 56.0),
          real("voltage_shutdown", At<SiteRules, &S::thresholds, &V::shutdown_v>{}, "V",
               "every load off, locked out until voltage_restart")
              .by_default(44.0),
          real("voltage_critical_low", At<SiteRules, &S::thresholds, &V::critical_low_v>{}, "V",
               "every load off at once")
              .by_default(45.0),
          real("voltage_low", At<SiteRules, &S::thresholds, &V::low_v>{}, "V", "heaters stop below this")
              .by_default(47.0),
          real("voltage_restart", At<SiteRules, &S::thresholds, &V::restart_v>{}, "V",
               "after a shutdown, nothing starts below this; no mode starts a miner below it")
              .by_default(50.0),
          real("voltage_optimal_min", At<SiteRules, &S::thresholds, &V::optimal_min_v>{}, "V",
               "the bottom of the optimal band")
              .by_default(50.0),
          real("voltage_optimal_max", At<SiteRules, &S::thresholds, &V::optimal_max_v>{}, "V",
               "the top of the optimal band")
              .by_default(54.5),
          real("voltage_float", At<SiteRules, &S::thresholds, &V::float_v>{}, "V", "the chargers' float voltage")
              .by_default(55.0),
          real("voltage_absorption", At<SiteRules, &S::thresholds, &V::absorption_v>{}, "V",
               "the chargers' absorption voltage")
              .by_default(57.6),
          real("voltage_full", At<SiteRules, &S::thresholds, &V::full_v>{}, "V", "the bank is full")
              .by_default(58.0),
          text("timezone", At<SiteExtra, &SiteExtras::timezone>{}, "schedules, logs and status are in this zone")
              .by_default("America/Los_Angeles"),
          real("latitude", At<SiteExtra, &SiteExtras::latitude>{}, "°", "the site's latitude; null: not given")
              .between(-90, 90)
              .by_default(37.3382),
          real("longitude", At<SiteExtra, &SiteExtras::longitude>{}, "°", "the site's longitude; null: not given")
              .between(-180, 180)
              .by_default(-121.8863),
          choice("operating_mode", At<SiteRules, &S::mode>{}, modes(), "the mode of miners that name none")
              .by_default("balanced"),
          choice("display", At<SiteExtra, &SiteExtras::display>{}, words({"soc", "voltage"}),
                 "what the state topic leads with")
              .by_default("soc"),
          real("source_disagreement_v", At<SiteRules, &S::source_disagreement_v>{}, "V",
               "an alarm when two fresh voltage sources differ by more")
              .above(0)
              .by_default(1.0),
          real("internal_resistance_ohm", At<SiteRules, &S::internal_resistance_ohm>{}, "ohm",
               "the bank's: V - I x R is decided on; 0 turns the compensation off")
              .between(0, 1)
              .by_default(0.0),
          real("mode_margin_v", At<SiteRules, &S::mode_margin_v>{}, "V",
               "how far the aggressive and conservative modes move thresholds")
              .at_least(0)
              .by_default(0.5),
          real("plausible_min_v", At<SiteRules, &S::plausible_min_v>{}, "V",
               "a battery voltage below this is ignored, and a threshold below it refused")
              .by_default(30.0),
          real("plausible_max_v", At<SiteRules, &S::plausible_max_v>{}, "V",
               "a battery voltage above this is ignored, and a threshold above it refused")
              .by_default(70.0),
          seconds("electrical_stale_after_s", At<SiteRules, &S::electrical_stale_after>{},
                  "a voltage, current, PV or load reading older than this is stale")
              .above(0)
              .by_default(std::int64_t{30}),
          seconds("temperature_stale_after_s", At<SiteRules, &S::temperature_stale_after>{},
                  "a temperature older than this is stale (2 x Tasmota's TelePeriod)")
              .above(0)
              .by_default(std::int64_t{600}),
          seconds("stagger_s", At<SiteRules, &S::stagger>{}, "at most one load start per this long (inrush)")
              .at_least(0)
              .by_default(std::int64_t{30}),
          seconds("stale_hold_max_s", At<SiteRules, &S::stale_hold_max>{}, "stale_policy hold keeps a load at most this long")
              .at_least(0)
              .by_default(std::int64_t{300}),
          seconds("sunny_window_s", At<SiteRules, &S::sunny_window>{},
                  "require_sunny: PV above minimum_solar_w for this long")
              .at_least(0)
              .by_default(std::int64_t{600}),
          real("block_charging_hysteresis_c", At<SiteRules, &S::block_charging_hysteresis_c>{}, "°C",
               "a cold-charge block is released this far above its limit")
              .at_least(0)
              .by_default(2.0),
          seconds("hvac_min_on_s", At<SiteRules, &S::hvac_timing, &T::min_on>{}, "fans and heaters: minimum on time")
              .at_least(0)
              .by_default(std::int64_t{60}),
          seconds("hvac_min_off_s", At<SiteRules, &S::hvac_timing, &T::min_off>{}, "fans and heaters: minimum off time")
              .at_least(0)
              .by_default(std::int64_t{60}),
          real("load_start_margin_v", At<SiteRules, &S::load_start_margin_v>{}, "V",
               "heaters start this far (or their own sag) above voltage_low")
              .at_least(0)
              .by_default(0.5),
          seconds("probe_settle_s", At<SiteRules, &S::probe_settle>{},
                  "hidden surplus: a probe holds when the battery has not discharged for this long")
              .above(0)
              .by_default(std::int64_t{60}),
          real("probe_max_discharge_a", At<SiteRules, &S::probe_max_discharge_a>{}, "A",
               "... more than this current")
              .above(0)
              .by_default(5.0),
          real("probe_max_ah", At<SiteRules, &S::probe_max_ah>{}, "Ah", "... nor given up more than this charge")
              .above(0)
              .by_default(0.5),
          real("probe_margin_v", At<SiteRules, &S::probe_margin_v>{}, "V", "... nor fallen below voltage_float minus this")
              .at_least(0)
              .by_default(0.3),
          seconds("probe_backoff_min_s", At<SiteRules, &S::probe_backoff_min>{},
                  "after a failed probe, the next waits this long, doubling each time ...")
              .above(0)
              .by_default(std::int64_t{600}),
          seconds("probe_backoff_max_s", At<SiteRules, &S::probe_backoff_max>{}, "... up to this")
              .above(0)
              .by_default(std::int64_t{3600}),
      }};
  return e;
}

const Entity& miner() {
  static const Entity& e = *new Entity{
      "miner",
      "miner_profiles",
      {
          text("name", At<MinerRules, &M::name>{}, "its name, unique among the miners").need(),
          text("model", At<MinerExtra, &MinerExtras::model>{}, "what it is, for people").by_default(""),
          real("hashrate_th", At<MinerExtra, &MinerExtras::hashrate_th>{}, "TH/s", "its rated hashrate; null: not given")
              .at_least(0),
          real("power_w", At<MinerRules, &M::power_w>{}, "W", "its draw: the surplus and its own sag are computed from it")
              .at_least(0)
              .need(),
          boolean("enabled", At<MinerRules, &M::enabled>{}, "false: held off, and needs no relay")
              .by_default(std::int64_t{1}),
          integer("priority", At<MinerRules, &M::priority>{}, "", "1 runs first, 10 last").between(1, 10).need(),
          real("start_voltage", At<MinerRules, &M::start_v>{}, "V", "starts at or above this").need().over_mqtt(),
          real("stop_voltage", At<MinerRules, &M::stop_v>{}, "V", "stops below this").need().over_mqtt(),
          real("emergency_stop_voltage", At<MinerRules, &M::emergency_stop_v>{}, "V",
               "off at once below this, whatever its timers")
              .need(),
          boolean("require_excess_solar", At<MinerRules, &M::require_excess_solar>{},
                  "true: only on a solar surplus of at least minimum_excess_w")
              .by_default(std::int64_t{0}),
          real("minimum_excess_w", At<MinerRules, &M::minimum_excess_w>{}, "W", "the surplus it needs")
              .at_least(0)
              .by_default(0.0),
          real("minimum_solar_w", At<MinerRules, &M::minimum_solar_w>{}, "W", "PV at least this")
              .at_least(0)
              .by_default(0.0),
          boolean("require_sunny", At<MinerRules, &M::require_sunny>{}, "PV above minimum_solar_w for sunny_window_s")
              .by_default(std::int64_t{0}),
          custom(
              "schedule", Type::text, "preferred windows, site time: \"18:00-10:00,22:00-23:00\"; \"\": any time",
              [](const StoredProfiles& p, std::size_t i) -> Value { return schedule_text(p.rules.miners[i].schedule); },
              [](StoredProfiles& p, std::size_t i, const Value& v) {
                std::string why;
                if (auto windows = parse_schedule(as_text(v), why)) {
                  p.rules.miners[i].schedule = *windows;
                  return std::string();
                }
                return "schedule " + why;
              })
              .by_default(""),
          boolean("allow_outside_schedule", At<MinerRules, &M::allow_outside_schedule>{},
                  "true: the schedule is a preference only")
              .by_default(std::int64_t{1}),
          choice("operating_mode", At<MinerRules, &M::mode>{}, modes(), "how its thresholds move (the guide's modes)")
              .by_default("balanced"),
          text("relay_id", At<MinerExtra, &MinerExtras::relay_id>{}, "the relay that switches it (under relays:)")
              .by_default(""),
          seconds("min_on_s", At<MinerRules, &M::timing, &T::min_on>{}, "once on, on at least this long")
              .at_least(0)
              .by_default(std::int64_t{600}),
          seconds("min_off_s", At<MinerRules, &M::timing, &T::min_off>{}, "once off, off at least this long")
              .at_least(0)
              .by_default(std::int64_t{300}),
          seconds("start_delay_s", At<MinerRules, &M::timing, &T::start_delay>{}, "its start conditions held this long")
              .at_least(0)
              .by_default(std::int64_t{60}),
          seconds("stop_delay_s", At<MinerRules, &M::timing, &T::stop_delay>{}, "its stop condition held this long")
              .at_least(0)
              .by_default(std::int64_t{120}),
          integer("max_starts_per_hour", At<MinerRules, &M::timing, &T::max_starts_per_hour>{}, "",
                  "starts in any hour; 0: no limit")
              .between(0, rules::kMaxStartsPerHour)
              .by_default(std::int64_t{4}),
          choice("stale_policy", At<MinerRules, &M::stale_policy>{}, stale_policies(), "what it does when an input is stale")
              .by_default("off"),
          boolean("probe_hidden_surplus", At<MinerRules, &M::probe_hidden_surplus>{},
                  "with require_excess_solar: probe for the surplus full-battery chargers hide")
              .by_default(std::int64_t{0}),
          seconds("max_runtime_s", At<MinerRules, &M::max_run>{},
                  "a run ends once it has lasted this long, and min_off_s rests it; 0: no limit")
              .at_least(0)
              .by_default(std::int64_t{0}),
          text("source", At<MinerExtra, &MinerExtras::ac_source>{},
               "the AC source that feeds it (an id under ac_sources:); \"\": the first, or the one inverter")
              .by_default(""),
          integer("phase", At<MinerExtra, &MinerExtras::ac_phase>{}, "", "the phase of its source that feeds it (1: L1)")
              .between(1, 3)
              .by_default(std::int64_t{1}),
          choice("on_generator", At<MinerRules, &M::on_generator>{}, generator_policies(),
                 "while a generator feeds the site: allow (within its rating), surplus_only (only on the sun's "
                 "surplus) or never")
              .by_default("surplus_only"),
          real("start_w", At<MinerRules, &M::start_w>{}, "W",
               "what it draws for a start's first moments (its PSU's inrush), held to its source's surge_w; null: "
               "its rated draw")
              .at_least(0),
      }};
  return e;
}

const Entity& zone() {
  static const Entity& e = *new Entity{
      "zone",
      "hvac_zones",
      {
          text("name", At<ZoneRules, &Z::name>{}, "its name, unique among the zones").need(),
          boolean("enabled", At<ZoneRules, &Z::enabled>{},
                  "false: fan and heater held off (a cold-charge limit still applies)")
              .by_default(std::int64_t{1}),
          choice("zone_type", At<ZoneExtra, &ZoneExtras::zone_type>{}, words({"equipment", "battery", "living", "outdoor"}),
                 "what the zone is")
              .by_default("equipment"),
          text("sensor_id", At<ZoneExtra, &ZoneExtras::sensor_id>{},
               "its temperature: a sensor under sensors:, or a reading such as temp.temp_c")
              .by_default(""),
          real("too_hot_c", At<ZoneRules, &Z::too_hot_c>{}, "°C", "the fan on at or above").need(),
          real("hot_ok_c", At<ZoneRules, &Z::hot_ok_c>{}, "°C", "the fan off at or below").need(),
          real("too_cold_c", At<ZoneRules, &Z::too_cold_c>{}, "°C", "heat on at or below").need(),
          real("cold_ok_c", At<ZoneRules, &Z::cold_ok_c>{}, "°C", "heat off at or above").need(),
          text("exhaust_fan_relay", At<ZoneExtra, &ZoneExtras::exhaust_fan_relay>{}, "its fan's relay; null: no fan"),
          choice("fan_speed_control", At<ZoneRules, &Z::fan_speed_control>{}, {{true, "auto"}, {false, "none"}},
                 "auto: the fan's speed from hot_ok_c to too_hot_c")
              .by_default("none"),
          integer("fan_max_speed", At<ZoneRules, &Z::fan_max_speed>{}, "", "the fan's top speed")
              .between(1, 100)
              .by_default(std::int64_t{10}),
          choice("fan_stale_policy", At<ZoneRules, &Z::fan_stale_policy>{}, stale_policies(),
                 "what the fan does when the temperature is stale")
              .by_default("on"),
          heating_priority("heating_priority_1", 0, "the heat source tried first"),
          heating_priority("heating_priority_2", 1, "the heat source tried second"),
          custom(
              "heat_miner", Type::text, "the miner that heats it (a miner's name); null: none",
              [](const StoredProfiles& p, std::size_t i) -> Value {
                const auto& z = p.rules.zones[i];
                if (z.heat_miner && *z.heat_miner < p.rules.miners.size()) return p.rules.miners[*z.heat_miner].name;
                return {};
              },
              [](StoredProfiles& p, std::size_t i, const Value& v) {
                auto& z = p.rules.zones[i];
                z.heat_miner.reset();
                if (std::holds_alternative<std::monostate>(v)) return std::string();
                const std::string name = as_text(v);
                for (std::size_t k = 0; k < p.rules.miners.size(); ++k) {
                  if (p.rules.miners[k].name == name) z.heat_miner = k;
                }
                return z.heat_miner ? std::string() : fmt::format("heat_miner '{}' names no miner profile", name);
              })
              .or_none(),
          text("heater_relay", At<ZoneExtra, &ZoneExtras::heater_relay>{}, "its heater's relay; null: no heater"),
          choice("heater_stale_policy", At<ZoneRules, &Z::heater_stale_policy>{}, stale_policies(),
                 "what the heater does when an input is stale")
              .by_default("off"),
          real("minimum_solar_for_heating_w", At<ZoneRules, &Z::minimum_solar_for_heating_w>{}, "W",
               "the heater runs only with PV at least this")
              .at_least(0)
              .by_default(0.0),
          real("block_charging_below_c", At<ZoneRules, &Z::block_charging_below_c>{}, "°C",
               "a zone holding the battery: no charging below this (LiFePO4: 0); null: none"),
          real("heater_power_w", At<ZoneRules, &Z::heater_power_w>{}, "W", "the heater's draw: it starts only above its own sag")
              .at_least(0)
              .by_default(0.0),
          text("heater_source", At<ZoneExtra, &ZoneExtras::heater_ac_source>{},
               "the AC source that feeds its heater (an id under ac_sources:); \"\": the first")
              .by_default(""),
          integer("heater_phase", At<ZoneExtra, &ZoneExtras::heater_ac_phase>{}, "",
                  "the phase of that source that feeds its heater (1: L1)")
              .between(1, 3)
              .by_default(std::int64_t{1}),
          choice("heater_on_generator", At<ZoneRules, &Z::heater_on_generator>{}, generator_policies(),
                 "its heater while a generator feeds the site: allow (within its rating), surplus_only or never")
              .by_default("allow"),
      }};
  return e;
}

}  // namespace shackd::schema

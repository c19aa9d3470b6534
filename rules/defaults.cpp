// The Solar Shack (docs/solar-shack.md). Timing values are ours: the
// source data has none. ASIC PSUs want minutes between power cycles, hence min on/off.
#include "rules/profile.hpp"

namespace rules {

namespace {
constexpr int hhmm(int h, int m) { return h * 60 + m; }
}  // namespace

Profiles solar_shack_defaults() {
  Profiles p;  // SiteProfile's member defaults are the Solar Shack's curve and thresholds

  MinerProfile primary;
  primary.name = "Primary S21+";
  primary.priority = 1;
  primary.power_w = 3878;
  primary.start_v = 50.0;
  primary.stop_v = 47.0;
  primary.emergency_stop_v = 45.0;
  primary.schedule = {{hhmm(18, 0), hhmm(10, 0)}};
  primary.allow_outside_schedule = true;
  primary.mode = OperatingMode::aggressive;
  primary.timing = {Seconds(600), Seconds(300), Seconds(60), Seconds(120), 4};
  primary.stale_policy = StalePolicy::off;

  MinerProfile dump;
  dump.name = "Dump Load S19 #1";
  dump.priority = 3;
  dump.power_w = 3250;
  dump.start_v = 54.5;
  dump.stop_v = 53.0;
  dump.emergency_stop_v = 50.0;
  dump.require_excess_solar = true;
  dump.minimum_excess_w = 3500;
  dump.minimum_solar_w = 8000;
  dump.require_sunny = true;
  dump.schedule = {{hhmm(10, 0), hhmm(16, 0)}};
  dump.allow_outside_schedule = false;
  dump.mode = OperatingMode::opportunistic;
  dump.timing = {Seconds(300), Seconds(300), Seconds(120), Seconds(180), 4};
  dump.stale_policy = StalePolicy::off;

  p.miners = {primary, dump};

  ZoneProfile heat_room;
  heat_room.name = "Heat Room";
  heat_room.too_hot_c = 40;
  heat_room.hot_ok_c = 35;
  heat_room.too_cold_c = 0;
  heat_room.cold_ok_c = 5;
  heat_room.has_fan = true;
  heat_room.fan_speed_control = true;
  heat_room.fan_max_speed = 10;
  heat_room.has_heater = true;
  heat_room.heating_priority = {HeatSource::miner, HeatSource::heater};
  heat_room.heat_miner = 0;  // the Primary S21+: heat and profit
  heat_room.minimum_solar_for_heating_w = 4000;
  heat_room.block_charging_below_c = 0.0;

  ZoneProfile main_room;
  main_room.name = "Main Room";
  main_room.too_hot_c = 35;
  main_room.hot_ok_c = 30;
  main_room.too_cold_c = -5;
  main_room.cold_ok_c = 0;
  main_room.has_fan = true;
  main_room.fan_speed_control = true;
  main_room.fan_max_speed = 8;
  main_room.has_heater = true;
  main_room.heating_priority = {HeatSource::heater, HeatSource::none};  // miner heat won't reach
  main_room.minimum_solar_for_heating_w = 2000;

  p.zones = {heat_room, main_room};
  return p;
}

}  // namespace rules

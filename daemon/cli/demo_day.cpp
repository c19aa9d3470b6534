#include "daemon/cli/demo_day.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "daemon/vocab/render.hpp"
#include "drivers/kinds.hpp"
#include "drivers/site_mapping.hpp"
#include "rules/decide.hpp"
#include "rules/soc.hpp"
#include "rules/validate.hpp"

namespace shackd {

namespace {

using namespace std::chrono_literals;

// A 30 kWh 48 V LiFePO4 bank with 8 milliohm of internal resistance, 11 kW of PV.
constexpr double kCapacityWh = 30000;
constexpr double kInternalOhm = 0.008;
constexpr double kPeakPvW = 11000;
constexpr int kStepS = 30;

double pv_at(double hour) {
  if (hour < 6.5 || hour > 18.5) return 0;
  double w = kPeakPvW * std::pow(std::sin(std::numbers::pi * (hour - 6.5) / 12.0), 1.5);
  if (hour >= 13.0 && hour < 13.75) w *= 0.3;  // a passing cloud bank
  return w;
}

double house_at(double hour) {
  if (hour >= 17 && hour < 22) return 1850;
  if (hour >= 7 && hour < 9) return 1200;
  return 500;
}

double outdoor_at(double hour) { return -4 + 16 * std::max(0.0, std::sin(std::numbers::pi * (hour - 8) / 12.0)); }

struct Model {
  double soc = 0.30;  // 0..1
  double heat_room_c = 1.0;
  double main_room_c = 3.0;
  double battery_v = 0;
};

std::string load_line(const rules::LoadDecision& d) {
  return fmt::format("{:<4} {}", d.on ? "ON" : "off", rules::describe(d.reason));
}

}  // namespace

DemoDayResult run_demo_day(std::FILE* out) {
  rules::Profiles profiles = rules::solar_shack_defaults();
  profiles.site.internal_resistance_ohm = kInternalOhm;
  if (const auto errors = rules::validate(profiles); !errors.empty()) {
    for (const auto& e : errors) fmt::print(out, "profile error: {}\n", e);
    return {};
  }

  // The demo's site: every built-in device kind with its defaults (a GX with a battery monitor,
  // a Sol-Ark), its sources named as the kinds name them.
  std::vector<drivers::DeviceSettings> devices;
  for (const auto* k : drivers::builtin_kinds()) devices.push_back(drivers::defaults_of(*k));
  const drivers::SnapshotMapping mapping = drivers::mapping_for(devices);
  if (mapping.battery_v.empty() || mapping.battery_temp_c.empty()) return {};

  Model m;
  rules::State state;
  rules::Decision d;
  DemoDayResult result{0, 0, 1e9, 0};
  std::vector<std::string> last(profiles.miners.size() + 2 * profiles.zones.size());
  const rules::SteadyTime t0{};

  fmt::print(out, "shackd demo day: the Solar Shack defaults over 24 simulated hours ({} s steps)\n", kStepS);
  fmt::print(out, "battery 30 kWh LiFePO4, PV peak {:.0f} W, cloud 13:00-13:45, cold night\n\n", kPeakPvW);

  for (int step = 0; step <= 24 * 3600 / kStepS; ++step) {
    const int second = step * kStepS;
    const double hour = second / 3600.0;
    const int minute = std::min(second / 60, 1439);
    const rules::SteadyTime now = t0 + std::chrono::seconds(second);

    // Site physics from the loads commanded in the previous cycle.
    const bool primary_on = state.miners.size() > 0 && state.miners[0].on;
    const bool dump_on = state.miners.size() > 1 && state.miners[1].on;
    const bool heater_on = !state.zones.empty() && state.zones[0].heater.on;
    const bool fan_on = !state.zones.empty() && state.zones[0].fan.on;
    const bool main_heater_on = state.zones.size() > 1 && state.zones[1].heater.on;
    const double pv_avail = pv_at(hour);
    const double load_w = house_at(hour) + (primary_on ? 3878 : 0) + (dump_on ? 3250 : 0) +
                          (heater_on ? 1500 : 0) + (main_heater_on ? 1500 : 0) + (fan_on ? 60 : 0);
    // A full battery makes the MPPT throttle: PV never pushes SOC past 100 %.
    double net_w = pv_avail - load_w;
    if (m.soc >= 1.0 && net_w > 0) net_w = 0;
    const double pv_w = net_w == 0 && pv_avail > load_w ? load_w : pv_avail;
    m.soc = std::clamp(m.soc + net_w * kStepS / 3600.0 / kCapacityWh, 0.0, 1.0);
    const double rest_v = rules::v_from_soc(profiles.site.curve, m.soc * 100);
    const double amps = net_w / rest_v;  // + = charging
    m.battery_v = rest_v + amps * kInternalOhm;
    const double outdoor = outdoor_at(hour);
    const double heat_target = outdoor + 3 + (primary_on ? 14 : 0) + (dump_on ? 10 : 0) + (heater_on ? 12 : 0) - (fan_on ? 8 : 0);
    m.heat_room_c += (heat_target - m.heat_room_c) * 0.03;
    const double main_target = outdoor + 6 + (main_heater_on ? 8 : 0);
    m.main_room_c += (main_target - m.main_room_c) * 0.03;

    rules::Snapshot snap;
    snap.now = now;
    snap.local_minute_of_day = minute;
    // The sources as the built-in kinds offer them, best first: the best reads to 0.01 V, the
    // next to 0.1 V, the rest at an inverter's terminals, 0.08 V down the cable.
    snap.battery_v.clear();
    for (std::size_t i = 0; i < mapping.battery_v.size(); ++i) {
      const double v = i == 0 ? std::round(m.battery_v * 100) / 100 : i == 1 ? std::round(m.battery_v * 10) / 10 : m.battery_v - 0.08;
      snap.battery_v.push_back({mapping.battery_v[i].name, mapping.battery_v[i].label, rules::Reading{v, now}});
    }
    snap.battery_a = rules::Reading{amps, now};
    // The battery's temperature, from the best source offered (the battery is in the heat room).
    snap.battery_temp_c = {{mapping.battery_temp_c.front().name, mapping.battery_temp_c.front().label,
                            rules::Reading{m.heat_room_c, now}}};
    snap.pv_w = rules::Reading{pv_w, now};
    snap.load_w = rules::Reading{load_w, now};
    snap.zone_temp_c = {rules::Reading{m.heat_room_c, now}, rules::Reading{m.main_room_c, now}};

    rules::decide(snap, profiles, state, d);
    state = d.next;
    result.min_battery_v = std::min(result.min_battery_v, m.battery_v);
    result.max_battery_v = std::max(result.max_battery_v, m.battery_v);

    if (second % 7200 == 0) {
      fmt::print(out, "{}  battery {:.2f} V ({:.0f} %, {}, {}), PV {:.0f} W, load {:.0f} W, heat room {:.1f} °C, "
                      "main room {:.1f} °C{}\n",
                 hhmm(minute), m.battery_v, d.battery.soc_pct.value_or(0), band_name(d.battery.band),
                 source_name(snap.battery_v, d.battery.source), pv_w, load_w, m.heat_room_c, m.main_room_c,
                 d.block_charging ? ", CHARGING BLOCKED" : "");
    }
    // Print a load when its state or the kind of its reason changes.
    std::size_t slot = 0;
    const auto report = [&](const std::string& name, const rules::LoadDecision& ld) {
      const std::string key = fmt::format("{}{}", ld.on, static_cast<int>(ld.reason.code));
      if (key != last[slot]) {
        fmt::print(out, "{}    {:<22} {}\n", hhmm(minute), name, load_line(ld));
        last[slot] = key;
      }
      ++slot;
    };
    for (std::size_t i = 0; i < profiles.miners.size(); ++i) report(profiles.miners[i].name, d.miners[i]);
    for (std::size_t i = 0; i < profiles.zones.size(); ++i) {
      report(profiles.zones[i].name + " fan", d.zones[i].fan);
      report(profiles.zones[i].name + " heater", d.zones[i].heater);
    }
    if (d.miners[0].changed && d.miners[0].on) ++result.primary_starts;
    if (d.miners[1].changed && d.miners[1].on) ++result.dump_starts;
  }

  fmt::print(out, "\nsummary: primary started {} time(s), dump load {} time(s); battery {:.2f}-{:.2f} V\n",
             result.primary_starts, result.dump_starts, result.min_battery_v, result.max_battery_v);
  return result;
}

}  // namespace shackd

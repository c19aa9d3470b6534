#include "sim/model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "rules/profile.hpp"
#include "rules/soc.hpp"

namespace sim {

namespace {
const rules::VoltageCurve& curve() {
  static const rules::VoltageCurve c = rules::SiteProfile{}.curve;
  return c;
}
}  // namespace

std::optional<double> Scenario::at(const std::string& column, double t_s) const {
  const ScenarioRow* before = nullptr;
  for (const auto& row : rows) {
    if (!row.values.count(column)) continue;
    if (row.t_s <= t_s) {
      before = &row;
      continue;
    }
    if (!before) return row.values.at(column);
    const double a = before->values.at(column), b = row.values.at(column);
    return a + (b - a) * (t_s - before->t_s) / (row.t_s - before->t_s);
  }
  if (before) return before->values.at(column);
  return std::nullopt;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("scenario " + path + ": cannot read it");
  Scenario s;
  std::string line;
  std::vector<std::string> header;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      if (header.empty() || header[0] != "t_s") {
        throw std::runtime_error("scenario " + path + ":" + std::to_string(n) + ": the first column must be t_s");
      }
      continue;
    }
    if (cells.size() != header.size()) {
      throw std::runtime_error("scenario " + path + ":" + std::to_string(n) + ": " + std::to_string(cells.size()) +
                               " cells, the header has " + std::to_string(header.size()));
    }
    ScenarioRow row;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].empty()) continue;  // an empty cell: this column is not set at this time
      try {
        std::size_t used = 0;
        const double v = std::stod(cells[i], &used);
        if (used != cells[i].size()) throw std::invalid_argument("trailing text");
        if (i == 0) row.t_s = v; else row.values[header[i]] = v;
      } catch (const std::exception&) {
        throw std::runtime_error("scenario " + path + ":" + std::to_string(n) + ": column " + header[i] + ": '" +
                                 cells[i] + "' is not a number");
      }
    }
    if (!s.rows.empty() && row.t_s < s.rows.back().t_s) {
      throw std::runtime_error("scenario " + path + ":" + std::to_string(n) + ": t_s goes backwards");
    }
    s.rows.push_back(std::move(row));
  }
  return s;
}

double SiteModel::load_w() const {
  if (tripped_s) return 0;  // the inverter's output is off: nothing on it draws
  double w = house_w;
  for (const auto& [name, load] : loads) {
    if (load.on) w += load.power_w;
  }
  return w;
}

double SiteModel::generator_w() const {
  if (!generator_running || tripped_s) return 0;  // an inverter that tripped takes nothing from its input
  return load_w() + std::max(0.0, generator_charge_w);
}

namespace {
// The share of the battery's charge that one side's charger delivers, capped by its limit; what
// it cannot deliver it does not take from its panels.
double curtailed(double offered_w, double total_w, double surplus_w, std::optional<double> limit_a, double v) {
  if (surplus_w <= 0 || total_w <= 0 || !limit_a || *limit_a < 0) return offered_w;
  const double charge_w = surplus_w * offered_w / total_w;
  return offered_w - std::max(0.0, charge_w - *limit_a * v);
}
}  // namespace

int SiteModel::overload_word() const {
  if (tripped_s) return 2;
  if (!inverter_continuous_w) return 0;
  if (inverter_phases <= 1) return load_w() > *inverter_continuous_w ? 1 : 0;
  int worst = 0;
  for (int ph = 1; ph <= inverter_phases; ++ph) worst = std::max(worst, overload_word(ph));
  return worst;
}

double SiteModel::phase_load_w(int phase) const {
  const int phases = std::clamp(inverter_phases, 1, 3);
  if (phase < 1 || phase > phases) return 0;
  if (phases == 1) return load_w();
  if (tripped_s) return 0;
  double share_sum = 0;
  for (int ph = 0; ph < phases; ++ph) share_sum += std::max(0.0, house_phase_share[ph]);
  const double share = std::max(0.0, house_phase_share[phase - 1]);
  // No share given on any leg: the house on L1.
  double w = share_sum > 0 ? house_w * share / share_sum : (phase == 1 ? house_w : 0);
  for (const auto& [name, load] : loads) {
    // A leg the inverter lacks: the load is on L1, as the rules take a feed beyond the source's phases.
    const int on_phase = load.phase >= 1 && load.phase <= phases ? load.phase : 1;
    if (load.on && on_phase == phase) w += load.power_w;
  }
  return w;
}

int SiteModel::overload_word(int phase) const {
  const int phases = std::clamp(inverter_phases, 1, 3);
  if (phase < 1 || phase > phases) return 0;
  if (phases == 1) return overload_word();
  if (tripped_s) return phase == tripped_phase ? 2 : 0;
  if (!inverter_continuous_w) return 0;
  return phase_load_w(phase) > *inverter_continuous_w ? 1 : 0;
}

std::optional<double> SiteModel::bms_charge_limit_a() const {
  if (!bms_min_cell_c) return std::nullopt;
  return *bms_min_cell_c < bms_cold_cutoff_c ? 0.0 : bms_max_charge_a;
}

double SiteModel::pv_victron_w() const {
  // DVCC: the lower of the GX's own limit (2705) and the BMS's (307) holds for Victron chargers.
  std::optional<double> limit = victron_charge_limit_a;
  if (const auto bms = bms_charge_limit_a(); bms && (!limit || *limit < 0 || *bms < *limit)) limit = bms;
  if (full() && (!limit || *limit < 0 || taper_a < *limit)) limit = taper_a;
  return curtailed(pv_w * victron_pv_share, pv_w, pv_w - load_w(), limit, rest_v);
}

double SiteModel::pv_solark_w() const {
  std::optional<double> limit = solark_charge_limit_a;
  if (full() && (!limit || *limit < 0 || taper_a < *limit)) limit = taper_a;
  return curtailed(pv_w * (1 - victron_pv_share), pv_w, pv_w - load_w(), limit, rest_v);
}

double SiteModel::battery_a() const {
  // On generator power the generator carries the loads and charges the bank besides the sun.
  const double from_ac_w = generator_running && !tripped_s ? std::max(0.0, generator_charge_w) : -load_w();
  return (pv_victron_w() + pv_solark_w() + from_ac_w) / rest_v;
}

double SiteModel::battery_v() const { return rest_v + battery_a() * internal_ohm; }

int SiteModel::charge_state() const {
  if (charger_fault) return 2;
  if (pv_w <= 0) return 0;
  if (full()) return 5;
  if (soc_pct >= 99.5) return 5;
  if (battery_v() >= 56.0) return 4;
  return 3;
}

void SiteModel::advance(double t_s, double dt_s, const Scenario* scenario) {
  bool voltage_from_scenario = false;
  if (scenario) {
    if (auto v = scenario->at("battery_v", t_s)) rest_v = *v, voltage_from_scenario = true;
    if (auto v = scenario->at("pv_w", t_s)) pv_w = *v;
    if (auto v = scenario->at("house_w", t_s)) house_w = *v;
    if (auto v = scenario->at("battery_temp_c", t_s)) battery_temp_c = *v;
    for (const auto& row : scenario->rows) {
      for (const auto& [col, value] : row.values) {
        if (col.rfind("zone.", 0) == 0) zone_temp_c[col.substr(5)] = *scenario->at(col, t_s);
      }
    }
  }
  if (inverter_continuous_w && inverter_phases > 1) {
    advance_phases(t_s, dt_s);
  } else if (inverter_continuous_w) {
    if (tripped_s && t_s - *tripped_s >= trip_restart_s) tripped_s.reset();  // back; the relays stay off
    if (!tripped_s && load_w() > *inverter_continuous_w) {
      over_s += dt_s;
      if (over_s >= trip_after_s) {
        tripped_s = t_s;
        ++trips;
        over_s = 0;
        for (auto& [name, load] : loads) load.on = false;  // each relay lost its power
      }
    } else if (!tripped_s) {
      over_s = 0;
    }
  }
  if (generator_running) {
    const double w = generator_w();
    generator_peak_w = std::max(generator_peak_w, w);
    if (generator_continuous_w && w > *generator_continuous_w) generator_over_s += dt_s;
  }
  if (capacity_wh > 0 && !voltage_from_scenario) {
    double net_w = battery_a() * rest_v;
    if (soc_pct >= 100 && net_w > 0) net_w = 0;  // a full battery: the MPPTs throttle
    soc_pct = std::clamp(soc_pct + net_w * dt_s / 3600.0 / capacity_wh * 100.0, 0.0, 100.0);
    rest_v = rules::v_from_soc(curve(), soc_pct);
  } else {
    soc_pct = rules::soc_from_v(curve(), rest_v);
  }
}

// Each leg's time above its rating; the first to reach trip_after_s takes the whole output off.
void SiteModel::advance_phases(double t_s, double dt_s) {
  const int phases = std::clamp(inverter_phases, 1, 3);
  if (tripped_s && t_s - *tripped_s >= trip_restart_s) {
    tripped_s.reset();  // back, every leg; the relays stay off
    tripped_phase = 0;
  }
  if (tripped_s) return;
  for (int ph = 1; ph <= phases; ++ph) {
    double& over = phase_over_s[ph - 1];
    over = phase_load_w(ph) > *inverter_continuous_w ? over + dt_s : 0;
  }
  over_s = *std::max_element(phase_over_s.begin(), phase_over_s.begin() + phases);
  for (int ph = 1; ph <= phases; ++ph) {
    if (phase_over_s[ph - 1] < trip_after_s) continue;
    tripped_s = t_s;
    tripped_phase = ph;
    ++trips;
    over_s = 0;
    phase_over_s.fill(0);
    for (auto& [name, load] : loads) load.on = false;  // each relay lost its power
    return;
  }
}

std::optional<double> SiteModel::value(const std::string& service, const std::string& f) const {
  const auto whole = site_value(service, f);
  if (parallel_inverters <= 1 || !whole || service != "solark") return whole;
  // One Sol-Ark of a parallel stack: its share of what they carry (the GX's units see it all;
  // another kind's --device serves the inverters' whole, as before).
  const bool power = f.starts_with("pv") || f.starts_with("load") || f == "battery_a" || f == "battery_w" ||
                     f == "inverter_out_w" || f == "charge_w" || f == "discharge_w" || f == "eps_w";
  return power ? *whole / parallel_inverters : *whole;
}

std::optional<double> SiteModel::site_value(const std::string& service, const std::string& f) const {
  const double v = battery_v(), a = battery_a(), load = load_w();
  const double pv_victron = pv_victron_w(), pv_solark = pv_solark_w();
  if (service == "system") {
    if (f == "battery_v") return v;
    if (f == "battery_a") return a;
    if (f == "battery_w") return v * a;
    if (f == "soc_pct") return std::round(soc_pct);
    if (f == "battery_state") return a > 0.5 ? 1 : a < -0.5 ? 2 : 0;
    if (f == "pv_dc_w") return pv_victron;
    if (inverter_phases > 1 && f.starts_with("ac_consumption_l")) return phase_load_w(f[16] - '0');
    if (f == "ac_consumption_l1_w" || f == "ac_consumption_l2_w") return load / 2;
    // Off-grid: not connected, unless the generator runs on the active input (set as a generator).
    if (f == "active_input") return generator_running ? 2 : 240;
    if (f == "genset_l1_w") return generator_w();
    return 0;  // PV on AC, grid and L3: nothing at an off-grid site
  }
  if (service == "battery") {
    if (f == "battery_v") return v;
    if (f == "battery_a") return a;
    if (f == "battery_temp_c") return battery_temp_sensor ? std::optional(battery_temp_c) : std::nullopt;
    if (f == "min_cell_temp_c") return bms_min_cell_c;
    if (!bms_min_cell_c) return std::nullopt;  // a battery monitor: the BMS's values read 0
    if (f == "max_cell_temp_c") return *bms_min_cell_c + 1.5;
    if (f == "bms_charge_v") return 56.8;
    if (f == "bms_charge_limit_a") return bms_charge_limit_a();
    if (f == "allow_to_charge") return *bms_charge_limit_a() > 0 ? 1 : 0;
    if (f == "alarm_low_charge_temperature" && *bms_min_cell_c < bms_cold_cutoff_c) return 2;
    if (f.starts_with("alarm_")) {
      const auto it = bms_alarms.find(f.substr(6));
      return it == bms_alarms.end() ? 0 : it->second;
    }
    if (f == "soc_pct") return soc_pct;
    return std::nullopt;
  }
  if (service == "solarcharger") {
    if (f == "charge_state") return charge_state();
    if (f == "pv_v") return pv_victron > 0 ? 95.0 : 0.0;
    if (f == "pv_w") return pv_victron;
    // /MppOperationMode: 2 tracking, 1 held back by a charge limit, 0 off (night, fault).
    if (f == "tracking_mode") {
      if (pv_w <= 0 || charger_fault) return 0;
      return pv_victron < pv_w * victron_pv_share - 1 ? 1 : 2;
    }
    return std::nullopt;
  }
  if (service == "vebus") {
    if (f == "dc_v") return v;  // a Multi's DC terminals: the bank's voltage
    // Split or three phase: each leg's output and word (phase_load_w, overload_word(phase)).
    if (inverter_phases > 1) {
      if (f.starts_with("ac_out_l")) return phase_load_w(f[8] - '0');
      if (f == "overload") return overload_word();
      if (f.starts_with("overload_l")) return overload_word(f[10] - '0');
    }
    // One phase: its output is the site's AC load (0 while tripped), its words the overload's.
    if (f == "ac_out_l1_w") return load;
    if (f == "ac_out_l2_w" || f == "ac_out_l3_w") return 0;
    if (f == "overload" || f == "overload_l1") return overload_word();
    if (f == "overload_l2" || f == "overload_l3") return 0;
    // Its nominal power (attributes.csv, 130/132): the rating it was given, one phase; 0 unrated.
    if (f == "nominal_w" || f == "nominal_l1_w") return inverter_continuous_w.value_or(0);
    if (f == "nominal_l2_w" || f == "nominal_l3_w") return 0;
    return std::nullopt;
  }
  if (service == "temperature") {
    if (f == "temp_c") return battery_temp_c;
    if (f == "status") return temperature_status;
    return std::nullopt;
  }
  // The Deye three-phase map names its readings as the single-phase one (docs/registers.md §2.9).
  if (service == "solark" || service == "deye3p") {
    if (f == "battery_v") return v - 0.05;  // measured at the inverter, after the cable
    if (f == "battery_a") return a;          // the register table turns it into + = discharging
    if (f == "battery_w") return v * a;
    if (f == "battery_temp_c") return battery_temp_c;
    if (f == "soc_pct") return std::round(soc_pct);
    if (f == "pv1_w") return pv_solark * 0.6;
    if (f == "pv2_w") return pv_solark * 0.4;
    // A split-phase (Sol-Ark, 2) or three-phase (Deye, 3) inverter: each leg's own load.
    if (inverter_phases > 1 && f.starts_with("load_l")) return phase_load_w(f[6] - '0');
    if (service == "deye3p" && (f == "load_l1_w" || f == "load_l2_w" || f == "load_l3_w")) return load / 3;
    if (f == "load_l1_w" || f == "load_l2_w") return load / 2;
    if (f == "load_w" || f == "inverter_out_w") return load;
    if (f == "grid_hz") return 60.0;
    // Its rated power for `probe` (16-17, sim/solark_map.hpp): the rating it was given; 0 unrated.
    if (f == "rated_w") return inverter_continuous_w.value_or(0);
    if (f.starts_with("fault_word_")) {
      // Word k (1-4) holds F(16(k-1)+1) .. F(16k) in bits 0-15.
      const int k = f.back() - '0';
      int word = 0;
      for (const int code : solark_faults) {
        if (code > 16 * (k - 1) && code <= 16 * k) word |= 1 << (code - 1 - 16 * (k - 1));
      }
      return word;
    }
    return 0;
  }
  if (service == "eg4") {
    // An EG4 on the same bank and the inverter's panels (docs/registers.md §4).
    if (f == "state") return pv_solark > 0 ? 0x80 : 0x40;  // PV off grid, battery off grid
    if (f == "battery_v") return v - 0.05;
    if (f == "soc_pct") return std::round(soc_pct);
    if (f == "soh_pct") return 98;
    if (f == "pv1_w") return pv_solark * 0.6;
    if (f == "pv2_w") return pv_solark * 0.4;
    if (f == "charge_w") return a > 0 ? v * a : 0.0;
    if (f == "discharge_w") return a < 0 ? -v * a : 0.0;
    if (f == "eps_w") return load;
    if (f == "internal_temp_c") return 38;
    if (f == "battery_temp_c") return battery_temp_c;
    return 0;
  }
  return std::nullopt;
}

}  // namespace sim

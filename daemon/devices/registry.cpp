#include "daemon/devices/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "drivers/site_mapping.hpp"
#include "rules/profile.hpp"

namespace shackd::devices {

std::vector<drivers::DeviceConfig> modbus_devices(const Config& config) {
  std::vector<drivers::DeviceConfig> out;
  for (const auto& d : config.devices) out.push_back(drivers::device_config(d));
  return out;
}

std::chrono::milliseconds longest_timeout(const Config& config) {
  std::chrono::milliseconds longest{0};
  for (const auto& d : config.devices) longest = std::max(longest, d.timeout);
  return longest;
}

std::string enabled_kinds(const Config& config) {
  std::string out;
  for (const auto& d : config.devices) {
    out += (out.empty() ? "" : " ") + d.name;
    if (!drivers::kind_named(d)) out += fmt::format(" ({})", d.kind->key);
  }
  return out.empty() ? "none" : out;
}

std::vector<ChargeLimitSlot> charge_limits(const Config& config) {
  std::vector<ChargeLimitSlot> out;
  for (const auto& d : config.devices) {
    for (const auto& w : d.kind->charge_limits) {
      const auto unit = drivers::unit_id(d, w.unit);
      if (!unit) continue;  // the unit it writes on is not configured
      std::optional<int> restore;
      if (!w.restore_setting.empty()) restore = drivers::setting(d, w.restore_setting);
      const bool chosen = config.charge_block_action.count(std::string(w.action)) > 0;
      // Each device's limit is its own row: two inverters of a kind each have theirs put back.
      out.push_back({{drivers::instance_word(d, w.id), drivers::instance_label(d, w.label), *unit, w.address,
                      static_cast<std::int16_t>(w.restore_setting.empty() ? w.no_limit : restore.value_or(w.no_limit))},
                     d.name,
                     chosen && (w.restore_setting.empty() || restore.has_value()),
                     std::string(w.id)});
    }
  }
  return out;
}

drivers::SnapshotMapping snapshot_mapping(const Config& config, const rules::Thresholds& t) {
  using drivers::Quantity;
  drivers::SnapshotMapping m = drivers::mapping_for(config.devices);
  m.pv_w = config.pv_readings;
  m.load_w = config.load_readings;
  m.battery_v.clear();
  for (const auto& r : config.battery_v_readings) m.battery_v.push_back(drivers::source_spec(config.devices, Quantity::battery_v, r));
  m.battery_temp_c.clear();
  for (const auto& r : config.battery_temp_readings) {
    m.battery_temp_c.push_back(drivers::source_spec(config.devices, Quantity::battery_temp_c, r));
  }
  drivers::add_charger_evidence(config.devices, t.absorption_v, t.float_v, m);
  // The AC sources as configured; none: the one default source, read from what the devices offer
  // (a GX's VE.Bus output and overload words), so that its own warnings shed with no config.
  if (config.ac_sources.empty()) {
    drivers::SnapshotMapping::AcSourceSpec spec;
    spec.load_w = {drivers::offered(config.devices, Quantity::ac_out_l1_w),
                   drivers::offered(config.devices, Quantity::ac_out_l2_w),
                   drivers::offered(config.devices, Quantity::ac_out_l3_w)};
    spec.overload = drivers::offered(config.devices, Quantity::ac_overload);
    spec.overload_phase = {drivers::offered(config.devices, Quantity::ac_overload_l1),
                           drivers::offered(config.devices, Quantity::ac_overload_l2),
                           drivers::offered(config.devices, Quantity::ac_overload_l3)};
    m.ac.push_back(spec);
  } else {
    for (const auto& a : config.ac_sources) {
      drivers::SnapshotMapping::AcSourceSpec spec{a.load_w, a.overload, a.overload_phase};
      // A generator that names no readings is read from what the devices offer (a GX's genset
      // power per phase), as the default inverter is.
      const bool none_named = a.load_w[0].empty() && a.load_w[1].empty() && a.load_w[2].empty();
      if (a.rating.kind == rules::AcSourceKind::generator && none_named) {
        spec.load_w = {drivers::offered(config.devices, Quantity::genset_l1_w),
                       drivers::offered(config.devices, Quantity::genset_l2_w),
                       drivers::offered(config.devices, Quantity::genset_l3_w)};
        for (std::size_t k = a.rating.phases; k < spec.load_w.size(); ++k) spec.load_w[k].clear();
      }
      m.ac.push_back(spec);
    }
  }
  return m;
}

std::vector<std::string> describe(const Config& config) {
  using drivers::Quantity;
  std::vector<std::string> out;
  for (const auto& d : config.devices) {
    std::string units;
    for (const auto& u : drivers::units_of(d)) units += fmt::format("{}{} {}", units.empty() ? "" : ", ", u.prefix, u.unit);
    out.push_back(fmt::format("device {} ({}): {}, unit{} {}", d.name, d.kind->label, drivers::describe(d.transport),
                              drivers::units_of(d).size() == 1 ? "" : "s", units));
  }
  const auto ranked = [&](const char* what, Quantity q, const std::vector<std::string>& readings) {
    std::string list;
    for (const auto& r : readings) {
      const auto spec = drivers::source_spec(config.devices, q, r);
      list += (list.empty() ? "" : ", ") + (spec.label == r ? r : fmt::format("{} ({})", spec.label, r));
    }
    out.push_back(fmt::format("{}: {}", what, list.empty() ? "none" : list));
  };
  ranked("battery voltage, best first", Quantity::battery_v, config.battery_v_readings);
  ranked("battery temperature, best first", Quantity::battery_temp_c, config.battery_temp_readings);
  ranked("PV, summed", Quantity::pv_w, config.pv_readings);
  ranked("load, summed", Quantity::load_w, config.load_readings);
  // The word the loads' on_generator policies wait on (docs/guide.md, "On generator power").
  std::string words;
  for (const auto& g : drivers::mapping_for(config.devices).generator_running) {
    words += fmt::format("{}{} is {}", words.empty() ? "" : ", or ", g.reading, fmt::join(g.running, " or "));
  }
  out.push_back(words.empty() ? "on generator power: never known (no device says so): the on_generator policies never apply"
                              : "on generator power when: " + words);
  return out;
}

}  // namespace shackd::devices

#include "daemon/config/devices_yaml.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "daemon/config/config.hpp"
#include "drivers/site_mapping.hpp"

namespace shackd {

namespace {

using drivers::DeviceKind;
using drivers::DeviceSettings;
using drivers::UnitSlot;

// "a, b and c"
std::string and_list(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
  }
  return out;
}

// The writers every kind offers, with their kinds, in the kinds' order.
std::vector<std::pair<const DeviceKind*, const drivers::ChargeLimitWriter*>> writers(drivers::Kinds kinds) {
  std::vector<std::pair<const DeviceKind*, const drivers::ChargeLimitWriter*>> out;
  for (const auto* k : kinds) {
    for (const auto& w : k->charge_limits) out.emplace_back(k, &w);
  }
  return out;
}

const DeviceSettings* configured(const Config& c, const DeviceKind* k) {
  for (const auto& d : c.devices) {
    if (d.kind == k) return &d;
  }
  return nullptr;
}

void parse_unit(const YAML::Node& v, const std::string& p, yaml::Reader& r, const UnitSlot& slot, std::vector<int>& ids) {
  long long x = 0;
  switch (slot.count) {
    case UnitSlot::Count::one:
      if (r.integer(v, p, slot.min_id, 247, x)) ids = {static_cast<int>(x)};
      return;
    case UnitSlot::Count::optional:
      if (yaml::is_null(v)) ids.clear();  // `battery_unit: null`: none fitted
      else if (r.integer(v, p, slot.min_id, 247, x)) ids = {static_cast<int>(x)};
      return;
    case UnitSlot::Count::list:
      if (!v.IsSequence()) {
        r.e.add(p, v, "expected a list of unit ids");
        return;
      }
      ids.clear();
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (r.integer(v[i], fmt::format("{}[{}]", p, i), slot.min_id, 247, x)) ids.push_back(static_cast<int>(x));
      }
      return;
  }
}

// devices.<key>: the keys every kind has (enabled, where it is, how long to wait), the kind's
// units and settings, and on RS485 the serial line.
DeviceSettings parse_device(const YAML::Node& node, const std::string& path, yaml::Reader& r, const DeviceKind& k) {
  DeviceSettings d = drivers::defaults_of(k);
  std::vector<std::string_view> allowed = {"enabled", "host", "port", "timeout_ms", "pacing_ms", "max_block"};
  if (k.rtu) allowed.insert(allowed.begin() + 1, {"transport", "device", "baud", "parity"});
  for (const auto& slot : k.units) allowed.push_back(slot.key);
  for (const auto& s : k.settings) allowed.push_back(s.key);
  std::string transport = "tcp";
  drivers::TcpTransport tcp = std::get<drivers::TcpTransport>(d.transport);
  drivers::RtuTransport rtu;
  rtu.baud = k.baud;
  for (const auto& [key, v] : yaml::entries(node, path, allowed, r.e)) {
    const std::string p = path + "." + key;
    if (key == "enabled") r.boolean(v, p, d.enabled);
    if (key == "host") r.text(v, p, tcp.host);
    if (key == "port") r.integer_as(v, p, 1, 65535, tcp.port);
    if (key == "timeout_ms") r.ms(v, p, 50, 30000, d.timeout);
    if (key == "pacing_ms") r.ms(v, p, 0, 5000, d.pacing);
    if (key == "max_block") {
      int m = 0;
      r.integer_as(v, p, 1, 125, m);
      if (m > 0) d.max_block = m;
    }
    if (key == "transport") {
      r.text(v, p, transport);
      if (transport != "tcp" && transport != "rtu") r.e.add(p, v, "must be tcp or rtu");
    }
    if (key == "device") r.text(v, p, rtu.device);
    if (key == "baud") r.integer_as(v, p, 1200, 115200, rtu.baud);
    if (key == "parity") {
      std::string s;
      r.text(v, p, s);
      if (s == "N" || s == "E" || s == "O") rtu.parity = s[0];
      else r.e.add(p, v, fmt::format("'{}' must be N, E or O", s));
    }
    for (std::size_t i = 0; i < k.units.size(); ++i) {
      if (key == k.units[i].key) parse_unit(v, p, r, k.units[i], d.unit_ids[i]);
    }
    for (std::size_t i = 0; i < k.settings.size(); ++i) {
      if (key != k.settings[i].key) continue;
      int x = 0;  // stays 0 when refused: that error is the one to show, not "required"
      r.integer_as(v, p, k.settings[i].min, k.settings[i].max, x);
      d.settings[i] = x;
    }
  }
  if (transport == "rtu") d.transport = rtu;
  else d.transport = tcp;
  return d;
}

}  // namespace

void parse_devices(const YAML::Node& node, yaml::Reader& r, drivers::Kinds kinds, std::vector<DeviceSettings>& out) {
  std::vector<std::string_view> keys;
  for (const auto* k : kinds) keys.push_back(k->key);
  std::vector<DeviceSettings> read;
  for (const auto& [key, v] : yaml::entries(node, "devices", keys, r.e)) {
    if (const auto* k = drivers::find_kind(kinds, key)) {
      auto d = parse_device(v, "devices." + key, r, *k);
      if (d.enabled) read.push_back(std::move(d));
    }
  }
  // In the kinds' order, whatever the file's: the order of the polls and of equal offers.
  for (const auto* k : kinds) {
    for (auto& d : read) {
      if (d.kind == k) out.push_back(std::move(d));
    }
  }
}

void parse_charge_block(const YAML::Node& v, yaml::Reader& r, drivers::Kinds kinds, std::set<std::string>& out) {
  const std::string p = "safety.charge_block_action";
  std::vector<std::string> names;
  if (v.IsSequence()) {
    r.strings(v, p, names);
  } else {
    std::string s;
    r.text(v, p, s);
    if (!s.empty()) names.push_back(s);
  }
  std::vector<std::string> words;
  for (const auto& [k, w] : writers(kinds)) words.emplace_back(w->action);
  std::vector<std::string> all = {"alarm"};
  all.insert(all.end(), words.begin(), words.end());
  out.clear();
  for (const auto& n : names) {
    if (std::find(words.begin(), words.end(), n) != words.end()) out.insert(n);
    else if (n == "alarm" && names.size() == 1) continue;
    else {
      r.e.add(p, v, fmt::format("'{}' must be {} or a list of {}", n, fmt::join(all, ", "), and_list(words)));
    }
  }
}

std::optional<std::string> unknown_reading(const Config& c, const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return "is not <unit>.<reading> (for example battery.battery_v)";
  const std::string unit = name.substr(0, dot), field = name.substr(dot + 1);
  if (unit == "sensor") {
    for (const auto& s : c.sensors) {
      if (s.id == field) return std::nullopt;
    }
    return "names no sensor in the sensors: section";
  }
  std::vector<std::string> units;
  for (const auto& d : c.devices) {
    for (const auto& u : drivers::units_of(d)) {
      units.push_back(u.prefix);
      if (u.prefix != unit) continue;
      std::string fields;
      for (const auto& reg : u.table->registers) {
        if (reg.field == field) return std::nullopt;
        fields += (fields.empty() ? "" : ", ") + std::string(reg.field);
      }
      return fmt::format("is not a reading of {} (it has {})", unit, fields);
    }
  }
  units.push_back("sensor");
  return fmt::format("names no configured device unit (this config has {})", fmt::join(units, ", "));
}

void finish_devices(Config& c, drivers::Kinds kinds, yaml::Errors& e) {
  if (c.devices.empty()) {
    std::vector<std::string> keys;
    for (const auto* k : kinds) keys.emplace_back(k->key);
    e.add(fmt::format("{}: devices: none is configured (of {}): shackd needs a battery voltage", c.source,
                      fmt::join(keys, ", ")));
  }
  for (const auto& [k, w] : writers(kinds)) {
    if (!c.charge_block_action.count(std::string(w->action))) continue;
    const DeviceSettings* d = configured(c, k);
    if (!d) {
      e.add(fmt::format("{}: safety.charge_block_action: {} writes the {} of {}, but no {} device is configured",
                        c.source, w->action, w->label, k->label, k->key));
    } else if (!w->restore_setting.empty() && !drivers::setting(*d, w->restore_setting)) {
      e.add(fmt::format("{}: devices.{}.{}: required with {} in safety.charge_block_action: {}", c.source, k->key,
                        w->restore_setting, w->action, w->restore_why));
    }
  }
  // The readings: defaults follow the devices that are there, best first (drivers/site_mapping.hpp).
  using drivers::Quantity;
  if (c.pv_readings.empty()) c.pv_readings = drivers::offered(c.devices, Quantity::pv_w);
  if (c.load_readings.empty()) c.load_readings = drivers::offered(c.devices, Quantity::load_w);
  if (c.battery_v_readings.empty()) c.battery_v_readings = drivers::offered(c.devices, Quantity::battery_v);
  if (c.battery_temp_readings.empty()) c.battery_temp_readings = drivers::offered(c.devices, Quantity::battery_temp_c);
  if (!c.devices.empty() && c.battery_v_readings.empty()) {
    e.add(fmt::format("{}: readings.battery_v: none of the configured devices measures the battery voltage: name the "
                      "reading that does",
                      c.source));
  }
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>*>{"pv_w", &c.pv_readings},
                                  {"load_w", &c.load_readings},
                                  {"battery_v", &c.battery_v_readings},
                                  {"battery_temp_c", &c.battery_temp_readings}}) {
    for (const auto& name : *list) {
      if (auto why = unknown_reading(c, name)) e.add(fmt::format("{}: readings.{}: '{}' {}", c.source, key, name, *why));
    }
  }
}

std::vector<std::string> charge_block_warnings(const Config& c) {
  std::vector<std::string> chosen;
  std::vector<const drivers::ChargeLimitWriter*> left;
  for (const auto& d : c.devices) {
    for (const auto& w : d.kind->charge_limits) {
      if (c.charge_block_action.count(std::string(w.action))) chosen.push_back(std::string(w.chargers) + std::string(w.via));
      else left.push_back(&w);
    }
  }
  std::vector<std::string> out;
  if (c.charge_block_action.empty()) {
    out.push_back("safety.charge_block_action is alarm: a cold battery raises an alarm, but no charger is stopped");
    return out;
  }
  for (const auto* w : left) {
    out.push_back(fmt::format(
        "safety.charge_block_action stops only the {} while charging is blocked; the {} on the same bank keeps "
        "charging a cold battery (add {} to the list)",
        and_list(chosen), w->chargers, w->action));
  }
  return out;
}

}  // namespace shackd

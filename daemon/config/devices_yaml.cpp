#include "daemon/config/devices_yaml.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

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

std::vector<const DeviceSettings*> configured(const Config& c, const DeviceKind* k) {
  std::vector<const DeviceSettings*> out;
  for (const auto& d : c.devices) {
    if (d.kind == k) out.push_back(&d);
  }
  return out;
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

// devices.<name>: the keys every kind has (kind, enabled, where it is, how long to wait), the
// kind's units and settings, and on RS485 the serial line.
DeviceSettings parse_device(const YAML::Node& node, const std::string& path, yaml::Reader& r, const DeviceKind& k) {
  DeviceSettings d = drivers::defaults_of(k);
  std::vector<std::string_view> allowed = {"kind", "enabled", "host", "port", "timeout_ms", "pacing_ms", "max_block"};
  if (k.rtu) allowed.insert(allowed.begin() + 2, {"transport", "device", "baud", "parity"});
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

// The kind of devices.<name>: its `kind:`, or, in a section named after a kind without one (the
// form before devices had names), that kind.
const DeviceKind* kind_of(const std::string& name, const YAML::Node& v, const std::string& path, yaml::Reader& r,
                          drivers::Kinds kinds, bool& legacy) {
  std::vector<std::string> keys;
  for (const auto* k : kinds) keys.emplace_back(k->key);
  legacy = false;
  if (v.IsMap() && v["kind"]) {
    std::string kind;
    r.text(v["kind"], path + ".kind", kind);
    if (const auto* k = drivers::find_kind(kinds, kind)) return k;
    if (!kind.empty()) {
      r.e.add(path + ".kind", v["kind"], fmt::format("'{}' is not a device kind shackd knows ({})", kind, fmt::join(keys, ", ")));
    }
    return nullptr;
  }
  if (const auto* k = drivers::find_kind(kinds, name)) {
    legacy = true;
    return k;
  }
  const std::vector<std::string_view> names(keys.begin(), keys.end());
  const std::string_view near = yaml::nearest(name, names);
  r.e.add(path, v, fmt::format("say which kind of device it is: kind: one of {}{}", fmt::join(keys, ", "),
                               near.empty() ? "" : fmt::format(" (or did you mean devices.{}?)", near)));
  return nullptr;
}

}  // namespace

void parse_devices(const YAML::Node& node, yaml::Reader& r, drivers::Kinds kinds, std::vector<DeviceSettings>& out,
                   std::vector<std::string>& warnings) {
  std::vector<DeviceSettings> read;
  for (const auto& [name, v] : yaml::id_entries(node, "devices", "device", r.e)) {
    const std::string path = "devices." + name;
    bool legacy = false;
    const DeviceKind* k = kind_of(name, v, path, r, kinds, legacy);
    if (!k) continue;
    auto d = parse_device(v, path, r, *k);
    d.name = name;
    if (legacy) {
      auto renamed = d;
      renamed.name = name + "_a";
      const std::string_view first = k->units.front().name;
      warnings.push_back(fmt::format(
          "devices.{0}: a section named after its kind, without kind:, is read as one device named {0}; add "
          "`kind: {0}` to it to say so (its readings stay {1}.*), or give it a name of your own to configure more "
          "than one ({2}: {{kind: {0}, ...}} reads {3}.*)",
          name, drivers::instance_prefix(d, first), renamed.name, drivers::instance_prefix(renamed, first)));
    }
    if (d.enabled) read.push_back(std::move(d));
  }
  // The readings' prefixes name one unit each, across every device (and never "sensor").
  std::map<std::string, std::string> owner;
  owner["sensor"] = "the sensors: section";
  for (const auto& d : read) {
    for (const auto& u : drivers::units_of(d)) {
      const auto [it, fresh] = owner.emplace(u.prefix, "devices." + d.name);
      if (!fresh) {
        r.e.add(fmt::format("devices.{}: its readings would be named {}.<field>, as those of {}: give it another name",
                            d.name, u.prefix, it->second));
      }
    }
  }
  // One serial line, one master: two devices polled side by side on one adapter would talk over
  // each other (docs/registers.md §2.1). A gateway serialises its TCP clients; a port cannot.
  std::map<std::string, std::string> line_owner;
  for (const auto& d : read) {
    const auto* rtu = std::get_if<drivers::RtuTransport>(&d.transport);
    if (!rtu) continue;
    const auto [it, fresh] = line_owner.emplace(rtu->device, d.name);
    if (!fresh) {
      r.e.add(fmt::format("devices.{}: {} is devices.{}'s serial line too, and two devices cannot poll one line side "
                          "by side: give each its own adapter, or put them behind one Modbus-TCP gateway (transport: tcp, "
                          "each with its unit id)",
                          d.name, rtu->device, it->second));
    }
  }
  // One device, one section: the same address and unit id twice is the same device read twice,
  // whose PV and load the snapshot would sum (issue 48: the same Sol-Ark twice doubled both). A
  // gateway serving several devices gives each its own unit id.
  std::map<std::tuple<std::string, int, int>, std::string> unit_owner;
  for (const auto& d : read) {
    const auto* tcp = std::get_if<drivers::TcpTransport>(&d.transport);
    if (!tcp) continue;
    std::set<int> ids;
    for (const auto& slot : d.unit_ids) ids.insert(slot.begin(), slot.end());
    for (const int id : ids) {
      const auto [it, fresh] = unit_owner.emplace(std::make_tuple(tcp->host, tcp->port, id), d.name);
      if (!fresh && it->second != d.name) {
        r.e.add(fmt::format("devices.{}: {}:{} unit {} is devices.{} again: the same device read twice would count its "
                            "PV and load twice; remove one, or give each device behind a gateway its own unit id",
                            d.name, tcp->host, tcp->port, id, it->second));
        break;
      }
    }
  }
  // In the kinds' order, whatever the file's (a kind's devices in the file's): the order of the
  // polls and of equal offers.
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
      for (const auto& dv : u.table->derived) {
        if (dv.field == field) return std::nullopt;
        fields += ", " + std::string(dv.field);
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
    const auto devices = configured(c, k);
    if (devices.empty()) {
      e.add(fmt::format("{}: safety.charge_block_action: {} writes the {} of {}, but no {} device is configured",
                        c.source, w->action, w->label, k->label, k->key));
    }
    // The word writes every device of the kind: each needs what is put back.
    for (const auto* d : devices) {
      if (!w->restore_setting.empty() && !drivers::setting(*d, w->restore_setting)) {
        e.add(fmt::format("{}: devices.{}.{}: required with {} in safety.charge_block_action: {}", c.source, d->name,
                          w->restore_setting, w->action, w->restore_why));
      }
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
  for (const auto& a : c.ac_sources) {
    const auto check = [&](const std::string& key, const std::vector<std::string>& names) {
      for (const auto& name : names) {
        if (auto why = unknown_reading(c, name)) {
          e.add(fmt::format("{}: ac_sources.{}.{}: '{}' {}", c.source, a.id, key, name, *why));
        }
      }
    };
    check("overload", a.overload);
    for (std::size_t k = 0; k < 3; ++k) {
      check(fmt::format("load_w_l{}", k + 1), a.load_w[k]);
      check(fmt::format("overload_l{}", k + 1), a.overload_phase[k]);
    }
  }
}

std::vector<std::string> charge_block_warnings(const Config& c) {
  std::vector<std::string> chosen;
  std::vector<const drivers::ChargeLimitWriter*> left;
  std::set<const drivers::DeviceKind*> seen;  // two inverters of a kind: one word for both
  for (const auto& d : c.devices) {
    if (!seen.insert(d.kind).second) continue;
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

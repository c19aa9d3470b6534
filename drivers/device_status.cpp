#include "drivers/device_status.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace drivers {

namespace {

const ValueName* find_name(std::span<const ValueName> names, int value) {
  for (const auto& n : names) {
    if (n.value == value) return &n;
  }
  return nullptr;
}

std::string shown(const StatusRule& r, double value) {
  const int v = static_cast<int>(std::lround(value));
  if (!r.names.empty()) {
    const ValueName* n = find_name(r.names, v);
    return n ? std::string(n->name) : fmt::format("unknown ({})", v);
  }
  return fmt::format("{:g} {}", value, r.unit);
}

}  // namespace

void add_device_status(DeviceStatus& out, const std::string& device, const std::vector<UnitConfig>& units,
                       const ReadingStore& store, SteadyTime now, rules::Duration fresh_within) {
  for (const UnitConfig& unit : units) {
    if (!unit.table) continue;
    for (const StatusRule& r : unit.table->status) {
      const std::string reading = unit.prefix + "." + std::string(r.field);
      const auto got = store.get(reading);
      if (!got || now - got->as_of > fresh_within) {
        out.unknown.push_back(reading);
        continue;
      }
      const double value = got->value;
      const auto alarm = [&](std::string id, std::string text, bool warning) {
        out.alarms.push_back({std::move(id), device, reading, std::move(text), warning});
      };
      switch (r.trigger) {
        case Trigger::none: break;
        case Trigger::level:
          // 0 no alarm, 1 warning, 2 alarm (attributes.csv, e.g. /Alarms/LowCellVoltage).
          if (value >= 1) alarm(unit.prefix + "." + std::string(r.code), std::string(r.text), value < 2);
          break;
        case Trigger::equals:
          if (std::lround(value) == r.value) alarm(unit.prefix + "." + std::string(r.code), std::string(r.text), r.warning);
          break;
        case Trigger::bits: {
          const auto word = static_cast<std::uint16_t>(std::lround(value));
          for (int b = 0; b < 16; ++b) {
            if (!(word & (1u << b))) continue;
            const int code = r.value + b + 1;
            const ValueName* n = find_name(r.names, code);
            const std::string named = fmt::format("{}{:0{}}", r.prefix, code, r.digits);
            alarm(fmt::format("{}.{}", unit.prefix, named),
                  n ? fmt::format("{} {}", named, n->name)
                    : fmt::format("{} {} (a code the public fault table does not name)", named, r.text),
                  n ? n->warning : r.warning);
          }
          break;
        }
      }
      if (r.trigger == Trigger::none || (r.trigger == Trigger::equals && (!r.names.empty() || !r.unit.empty()))) {
        out.states.push_back({unit.prefix + "." + std::string(r.field), shown(r, value)});
      }
    }
  }
}

void add_identity_alarms(DeviceStatus& out, const std::string& device, const DeviceHealth& health) {
  for (const auto& a : health.identity_alarms) {
    out.alarms.push_back({a.unit + ".device_type", device, a.unit + ".device_type", a.text, a.warning});
  }
}

}  // namespace drivers

#pragma once
// The devices: section and what depends on it, for every kind alike: each devices.<name> read by
// what its kind declares (drivers/device_kind.hpp: transport, units, settings), the charge-block
// words of safety.charge_block_action, the readings: defaults from the devices' offers, and the
// checks between them. No kind is named here.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/field_reader.hpp"
#include "drivers/device_kind.hpp"
#include "drivers/kinds.hpp"

namespace shackd {

struct Config;

// devices: a map of the owner's names, each with its kind:; a section named after a kind without
// kind: is that kind's one device (the form before names), with a warning that says how to name
// it. The enabled ones are appended to `out` in the kinds' order, a kind's in the file's.
void parse_devices(const YAML::Node& node, yaml::Reader& r, drivers::Kinds kinds,
                   std::vector<drivers::DeviceSettings>& out, std::vector<std::string>& warnings);

// safety.charge_block_action: alarm, one writer's word, or a list of them.
void parse_charge_block(const YAML::Node& node, yaml::Reader& r, drivers::Kinds kinds, std::set<std::string>& out);

// After every section is read: the checks between devices, charge block and readings, and the
// readings: defaults the devices offer. Errors go to `e`.
void finish_devices(Config& c, drivers::Kinds kinds, yaml::Errors& e);

// Why `name` is not a reading this config's devices or sensors give, or nullopt if it is.
std::optional<std::string> unknown_reading(const Config& c, const std::string& name);

}  // namespace shackd

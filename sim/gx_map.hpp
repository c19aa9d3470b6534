#pragma once
// How a GX's Modbus-TCP server (dbus-modbustcp) answers a read, by its own rule, so that the
// simulator's GX answers what a real one does (issue 47; docs/registers.md §1.3):
//
//  - a quantity of 0 or more than 125 registers: exception 0x03 (backend.cpp);
//  - a start address the register map does not have: 0x02 (mappings.cpp, DataIterator: StartAddressError),
//    whatever the unit id;
//  - the start register's service type (battery, solarcharger, ...) has no service at the unit
//    id: 0x0A (getService() finds none: ServiceError, which backend.cpp sends as "gateway path
//    unavailable"). So a solar charger's unit answers 0x0A to a battery register: 0x0A says
//    "not this service here", never "nothing at this unit id";
//  - a read that runs into an address the map does not have, or into another service type that
//    the unit lacks: 0x02 (DataIterator::next: AddressError).
//
// The map is victronenergy/dbus_modbustcp's attributes.csv at v1.0.101 (a copy in
// tests/fixtures/reference/victron/) with the registers mappings.cpp adds (777, 830, 834,
// 3214, 5202), as contiguous runs per service type; older firmware generations lack what
// GxMap says (sim/server.hpp). tests/drivers/table_test.cpp derives the runs from the copy and
// checks this table against them.
#include <optional>
#include <string_view>
#include <vector>

#include "drivers/registers.hpp"

namespace sim {

struct GxMap;
struct UnitSpec;

struct GxRun {
  int first = 0, last = 0;    // inclusive
  std::string_view service;   // com.victronenergy.<service>
};
// Every run of the newest map, by address.
const std::vector<GxRun>& gx_runs();

// The service type of `address` in the map `m` serves (a generation's holes and ends applied);
// nullopt: the map does not have it.
std::optional<std::string_view> gx_service_at(const GxMap& m, int address);

// The exception a GX answers a read with, or 0 when it serves it: `units` are the services it
// has, each on its unit id with its table (Table::service is the service type).
int gx_read_exception(const GxMap& m, const std::vector<UnitSpec>& units, int unit, int address, int count);

// A VE.Bus inverter/charger's DC voltage (com.victronenergy.vebus /Dc/0/Voltage, register 26,
// scale 100: attributes.csv), all the simulator serves of one: what `shackd probe` reads to tell it.
const drivers::Table& vebus_table();

}  // namespace sim

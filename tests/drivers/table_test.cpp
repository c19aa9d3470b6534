// Our register tables against the authorities: Victron's own attributes.csv (dbus_modbustcp
// v1.0.101) and the Sol-Ark V1.4 transcription.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "drivers/solark.hpp"
#include "sim/gx_map.hpp"
#include "drivers/victron_gx.hpp"

namespace {

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path << " (tests/fixtures/reference holds the copies)");
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

std::string victron_type(drivers::RegType t) {
  switch (t) {
    case drivers::RegType::u16: return "uint16";
    case drivers::RegType::s16: return "int16";
    case drivers::RegType::u32_high_first: return "uint32";
    case drivers::RegType::s32_high_first: return "int32";
    default: return "(not a GX type)";
  }
}

}  // namespace

TEST_CASE("the GX tables match Victron's attributes.csv: address, service, path, type and scale") {
  // service,path,dbus type,unit,address,register type,scale,R/W
  const auto rows = read_csv(SHACKD_REFERENCE "/victron/attributes.csv");
  REQUIRE(rows.size() > 500);
  for (const auto* t : {&drivers::victron::system_table(), &drivers::victron::battery_table(),
                        &drivers::victron::solarcharger_table(), &drivers::victron::temperature_table(),
                        &drivers::victron::vebus_table()}) {
    for (const auto& r : t->registers) {
      CAPTURE(std::string(r.source));
      const std::string source(r.source);
      const auto colon = source.find(':');
      const std::string service = source.substr(0, colon), path = source.substr(colon + 1);
      const std::vector<std::string>* row = nullptr;
      for (const auto& cells : rows) {
        if (cells.size() >= 8 && cells[0] == service && cells[4] == std::to_string(r.address)) row = &cells;
      }
      REQUIRE_MESSAGE(row, "register " << r.address << " of " << service << " is not in attributes.csv");
      CHECK((*row)[1] == path);
      CHECK((*row)[5] == victron_type(r.type));
      CHECK((*row)[7] == "R");  // the read path reads only readable registers
      // Victron: value = raw / scale; ours: raw * factor.
      CHECK(r.factor * std::stod((*row)[6]) == doctest::Approx(1.0));
      CHECK(r.offset == 0);
    }
  }
}

TEST_CASE("the Sol-Ark table matches the V1.4 transcription: address, type and scale") {
  // Register,Description,HA Data Type / Handling,Scale,Unit,Notes
  const auto rows = read_csv(SHACKD_REFERENCE "/solark/solark15k_v1_4_register_map.csv");
  std::map<int, std::vector<std::string>> by_address;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (!rows[i].empty()) by_address[std::stoi(rows[i][0])] = rows[i];
  }
  for (const auto& r : drivers::solark::table().registers) {
    CAPTURE(std::string(r.field));
    const auto it = by_address.find(r.address);
    REQUIRE_MESSAGE(it != by_address.end(), "register " << r.address << " is not in the V1.4 map");
    const auto& row = it->second;
    CHECK(std::string(r.source).find(row[1]) != std::string::npos);  // the same description
    CHECK(row[2] == (r.type == drivers::RegType::s16 ? "int16" : "uint16"));
    // Sign-normalised registers negate the factor; the magnitude is the map's scale.
    CHECK(std::fabs(r.factor) == doctest::Approx(std::stod(row[3])));
  }
}

// The GX's register map as runs of one service type each: attributes.csv, plus the registers
// dbus_modbustcp's mappings.cpp adds in code (importCSV: 777 solar charger PV current, 830-833 the
// date, 834-835 the firmware version, 3214 and 5202 a genset's error summary).
namespace {
struct ServiceRun {
  int first, last;
  std::string service;
  bool operator==(const ServiceRun&) const = default;
};
std::vector<ServiceRun> attribute_runs() {
  std::map<int, std::string> covered;
  const auto size_of = [](const std::string& t) {
    if (t == "int32" || t == "uint32") return 2;
    if (t == "uint64") return 4;
    const auto open = t.find('[');
    if (open != std::string::npos) return std::stoi(t.substr(open + 1));  // string[N], reserved[N]
    return 1;
  };
  for (const auto& cells : read_csv(SHACKD_REFERENCE "/victron/attributes.csv")) {
    if (cells.size() < 8 || cells[5].starts_with("INTERNAL")) continue;
    const std::string service = cells[0].substr(cells[0].rfind('.') + 1);
    for (int i = 0; i < size_of(cells[5]); ++i) covered[std::stoi(cells[4]) + i] = service;
  }
  for (const auto& [address, size, service] : {std::tuple{777, 1, "solarcharger"}, std::tuple{830, 4, "system"},
                                               std::tuple{834, 2, "system"}, std::tuple{3214, 1, "genset"},
                                               std::tuple{5202, 1, "dcgenset"}}) {
    for (int i = 0; i < size; ++i) covered[address + i] = service;
  }
  std::vector<ServiceRun> runs;
  for (const auto& [a, service] : covered) {
    if (!runs.empty() && runs.back().last == a - 1 && runs.back().service == service) runs.back().last = a;
    else runs.push_back({a, a, service});
  }
  return runs;
}
}  // namespace

TEST_CASE("the simulated GX's map is dbus_modbustcp's: the runs of attributes.csv and mappings.cpp's own registers") {
  std::vector<ServiceRun> sim_runs;
  for (const auto& r : sim::gx_runs()) sim_runs.push_back({r.first, r.last, std::string(r.service)});
  const auto expected = attribute_runs();
  REQUIRE(expected.size() > 40);
  CHECK(sim_runs == expected);
}

// dbus_modbustcp judges a read by its first register's service type at the unit id (0x0A when
// the unit has none) and refuses one that runs into an address it lacks or into another service
// type (0x02). So every read the daemon plans for a GX unit must lie in runs of that unit's own
// service, or a unit that has only that service would refuse it.
TEST_CASE("the daemon's GX reads each lie within its own service's registers, on every map generation") {
  const auto runs = attribute_runs();
  const auto service_at = [&](int a) -> std::string {
    for (const auto& r : runs) {
      if (a >= r.first && a <= r.last) return r.service;
    }
    return "";
  };
  for (const auto* t : {&drivers::victron::system_table(), &drivers::victron::battery_table(),
                        &drivers::victron::solarcharger_table(), &drivers::victron::temperature_table(),
                        &drivers::victron::vebus_table()}) {
    CAPTURE(std::string(t->service));
    for (const auto& b : drivers::plan_blocks(t->registers, t->max_gap, t->max_block)) {
      for (int a = b.start; a < b.start + b.count; ++a) {
        CAPTURE(a);
        CHECK(service_at(a) == std::string(t->service));
      }
    }
  }
}

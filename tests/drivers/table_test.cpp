// Our register tables against the authorities: Victron's own attributes.csv (dbus_modbustcp
// v1.0.101) and the Sol-Ark V1.4 transcription.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/solark.hpp"
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
                        &drivers::victron::solarcharger_table(), &drivers::victron::temperature_table()}) {
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

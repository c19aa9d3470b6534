#include "sim/solark_map.hpp"

#include <vector>

#include "drivers/solark.hpp"

namespace sim {

const drivers::Table& solark_served_table() {
  static const std::vector<drivers::Register> rows = [] {
    const drivers::Table& t = drivers::solark::table();
    std::vector<drivers::Register> r(t.registers.begin(), t.registers.end());
    r.push_back(drivers::Register{"rated_w", 16, drivers::RegType::u32_low_first, 0.1, 0, 0, 1e6,
                                  "kellerza/sunsynk single_phase.py RATED_POWER (16, 17)"});
    return r;
  }();
  static const drivers::Table table = [] {
    drivers::Table t = drivers::solark::table();
    t.registers = rows;
    return t;
  }();
  return table;
}

}  // namespace sim

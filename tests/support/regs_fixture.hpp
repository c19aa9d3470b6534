#pragma once
// A recorded-register fixture (tests/fixtures/*.regs): one line per register reading,
//   service  field  address  word[ word]  =>  value
// each checked through its table: the address, the decoded value, plausibility, and that the
// simulator's encode() gives the same words back.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "drivers/registers.hpp"

namespace test {

// Runs every line of a fixture; returns the (service, field) pairs it covered.
inline std::set<std::pair<std::string, std::string>> check_regs_fixture(
    const std::string& path, const std::function<const drivers::Table*(const std::string&)>& table_for) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read fixture " << path);
  std::set<std::pair<std::string, std::string>> covered;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(path);
    CAPTURE(n);
    std::istringstream ss(line);
    std::string service, field, word;
    unsigned address = 0;
    ss >> service >> field >> address;
    std::vector<std::uint16_t> words;
    while (ss >> word && word != "=>") words.push_back(static_cast<std::uint16_t>(std::stoul(word, nullptr, 0)));
    double expected = 0;
    ss >> expected;
    const drivers::Table* t = table_for(service);
    REQUIRE(t);
    const drivers::Register* reg = nullptr;
    for (const auto& r : t->registers) {
      if (r.field == field) reg = &r;
    }
    REQUIRE_MESSAGE(reg, "no register " << field << " in " << service);
    CHECK(reg->address == address);
    REQUIRE(words.size() == static_cast<std::size_t>(drivers::word_count(reg->type)));
    const double value = drivers::decode(*reg, words);
    CHECK(value == doctest::Approx(expected));
    CHECK_FALSE(drivers::check_plausible(*reg, value));
    // The simulator's encode() is the exact inverse.
    CHECK(drivers::encode(*reg, value) == words);
    covered.insert({service, field});
  }
  return covered;
}

}  // namespace test

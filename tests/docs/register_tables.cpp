// The register tables of docs/registers.md, from the tables the drivers read with, so the
// document cannot drift from the code. Each table sits between "<!-- table: NAME -->" and
// "<!-- end table -->".
//   register_tables --check docs/registers.md   exit 1, naming the first table that differs
//   register_tables --write docs/registers.md   rewrites the tables in place
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/deye_3p.hpp"
#include "drivers/eg4.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace {

const char* type_name(drivers::RegType t) {
  switch (t) {
    case drivers::RegType::u16: return "uint16";
    case drivers::RegType::s16: return "int16";
    case drivers::RegType::u32_high_first: return "uint32, high word first";
    case drivers::RegType::s32_high_first: return "int32, high word first";
    case drivers::RegType::u32_low_first: return "uint32, low word first";
    case drivers::RegType::s32_low_first: return "int32, low word first";
    case drivers::RegType::u8_low: return "uint8, low byte";
    case drivers::RegType::u8_high: return "uint8, high byte";
  }
  return "?";
}

std::string number(double v) { return fmt::format("{:g}", v); }

std::string render(const drivers::Table& t) {
  std::string out = "| reading | address | type | value = | plausible | notes | source |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : t.registers) {
    std::string value = fmt::format("raw × {}", number(r.factor));
    if (r.offset != 0) value += fmt::format(" {} {}", r.offset < 0 ? "−" : "+", number(r.offset < 0 ? -r.offset : r.offset));
    std::vector<std::string> notes;
    if (r.not_available_raw) notes.push_back(fmt::format("{} is \"not available\"", *r.not_available_raw));
    if (!r.only_with.empty()) notes.push_back(fmt::format("only with a valid {}", r.only_with));
    if (!r.invalidates.empty()) notes.push_back(fmt::format("non-zero drops {}", r.invalidates));
    out += fmt::format("| {} | {} | {} | {} | {} … {} | {} | {} |\n", r.field, r.address, type_name(r.type), value,
                       number(r.min), number(r.max), fmt::join(notes, "; "), r.source);
  }
  out += fmt::format("\nRead {}in blocks of at most {} registers, spanning gaps of up to {}{}{}.\n",
                     t.space == drivers::RegisterSpace::input ? "with function 4 (input registers) " : "", t.max_block,
                     t.max_gap, t.block_align ? fmt::format(", never across a multiple of {}", t.block_align) : "",
                     t.writes_fc16 ? "; written with function 16 only" : "");
  return out;
}

struct Named {
  const char* name;
  const drivers::Table* table;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "--check" && std::string(argv[1]) != "--write")) {
    fmt::print(stderr, "usage: register_tables --check|--write docs/registers.md\n");
    return 64;
  }
  const bool write = std::string(argv[1]) == "--write";
  std::ifstream in(argv[2]);
  if (!in) {
    fmt::print(stderr, "{}: cannot read\n", argv[2]);
    return 66;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  const std::vector<Named> tables{{"system", &drivers::victron::system_table()},
                                  {"battery", &drivers::victron::battery_table()},
                                  {"solarcharger", &drivers::victron::solarcharger_table()},
                                  {"temperature", &drivers::victron::temperature_table()},
                                  {"solark", &drivers::solark::table()},
                                  {"deye3p", &drivers::deye_3p::table()},
                                  {"eg4", &drivers::eg4::input_table()},
                                  {"eg4_settings", &drivers::eg4::holding_table()}};
  int differ = 0;
  for (const auto& [name, table] : tables) {
    const std::string open = fmt::format("<!-- table: {} -->\n", name), close = "<!-- end table -->";
    const auto at = doc.find(open);
    const auto end = at == std::string::npos ? at : doc.find(close, at);
    if (end == std::string::npos) {
      fmt::print(stderr, "{}: no \"<!-- table: {} -->\" ... \"{}\" region\n", argv[2], name, close);
      return 1;
    }
    const std::string want = render(*table);
    const std::size_t from = at + open.size();
    if (doc.compare(from, end - from, want) != 0) {
      if (!write) fmt::print(stderr, "{}: the {} table differs from drivers/ (register_tables --write)\n", argv[2], name);
      ++differ;
      doc.replace(from, end - from, want);
    }
  }
  if (write) {
    std::ofstream(argv[2]) << doc;
    return 0;
  }
  return differ ? 1 : 0;
}

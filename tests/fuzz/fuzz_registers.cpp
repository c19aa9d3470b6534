// libFuzzer: the register decoders. The input is a run of 16-bit words as a device might send
// them; every register of every table is decoded from it, checked for plausibility, and a
// plausible value must encode back to within half a step of itself.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "drivers/registers.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace {
void decode_table(const drivers::Table& t, const std::vector<std::uint16_t>& words) {
  if (t.registers.empty() || words.empty()) return;
  const std::uint16_t first = t.registers.front().address;
  for (const drivers::Register& r : t.registers) {
    const std::size_t n = static_cast<std::size_t>(drivers::word_count(r.type));
    const std::size_t at = static_cast<std::size_t>(r.address - first) % words.size();
    if (at + n > words.size()) continue;
    const std::span<const std::uint16_t> w(words.data() + at, n);
    const double v = drivers::decode(r, w);
    if (std::isnan(v)) __builtin_trap();
    if (drivers::check_plausible(r, v)) continue;  // dropped with its reason: fine
    const auto back = drivers::encode(r, v);
    if (back.size() != n) __builtin_trap();
    const double again = drivers::decode(r, back);
    if (std::fabs(again - v) > std::fabs(r.factor) / 2 + 1e-9) __builtin_trap();
  }
  for (const auto& b : drivers::plan_blocks(t.registers, t.max_gap, t.max_block)) {
    if (b.count <= 0 || b.count > t.max_block) __builtin_trap();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint16_t> words(size / 2);
  for (std::size_t i = 0; i < words.size(); ++i) {
    words[i] = static_cast<std::uint16_t>(data[2 * i] << 8 | data[2 * i + 1]);  // Modbus is big-endian
  }
  decode_table(drivers::victron::system_table(), words);
  decode_table(drivers::victron::battery_table(), words);
  decode_table(drivers::victron::solarcharger_table(), words);
  decode_table(drivers::victron::temperature_table(), words);
  decode_table(drivers::solark::table(), words);
  return 0;
}

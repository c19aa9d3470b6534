#include "drivers/registers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace drivers {

int word_count(RegType t) {
  switch (t) {
    case RegType::u16:
    case RegType::s16:
    case RegType::u8_low:
    case RegType::u8_high:
      return 1;
    default:
      return 2;
  }
}

bool is_signed(RegType t) {
  return t == RegType::s16 || t == RegType::s32_high_first || t == RegType::s32_low_first;
}

std::int64_t raw_value(RegType type, std::span<const std::uint16_t> w) {
  switch (type) {
    case RegType::u16: return w[0];
    case RegType::s16: return static_cast<std::int16_t>(w[0]);
    case RegType::u32_high_first: return (std::uint32_t{w[0]} << 16) | w[1];
    case RegType::s32_high_first: return static_cast<std::int32_t>((std::uint32_t{w[0]} << 16) | w[1]);
    case RegType::u32_low_first: return (std::uint32_t{w[1]} << 16) | w[0];
    case RegType::s32_low_first: return static_cast<std::int32_t>((std::uint32_t{w[1]} << 16) | w[0]);
    case RegType::u8_low: return w[0] & 0xFF;
    case RegType::u8_high: return w[0] >> 8;
  }
  return 0;
}

bool is_not_available(const Register& r, std::span<const std::uint16_t> words) {
  return r.not_available_raw && raw_value(r.type, words) == *r.not_available_raw;
}

double decode(const Register& r, std::span<const std::uint16_t> words) {
  return static_cast<double>(raw_value(r.type, words)) * r.factor + r.offset;
}

std::vector<std::uint16_t> encode(const Register& r, double value) {
  const double raw_d = std::round((value - r.offset) / r.factor);
  std::int64_t lo = 0, hi = 0;
  switch (r.type) {
    case RegType::u16: hi = 0xFFFF; break;
    case RegType::s16: lo = -32768, hi = 32767; break;
    case RegType::u32_high_first:
    case RegType::u32_low_first: hi = 0xFFFFFFFFLL; break;
    case RegType::s32_high_first:
    case RegType::s32_low_first: lo = -2147483648LL, hi = 2147483647LL; break;
    case RegType::u8_low:
    case RegType::u8_high: hi = 0xFF; break;
  }
  const std::int64_t raw = std::clamp(static_cast<std::int64_t>(raw_d), lo, hi);
  const auto bits = static_cast<std::uint32_t>(raw);
  const auto high = static_cast<std::uint16_t>(bits >> 16), low = static_cast<std::uint16_t>(bits & 0xFFFF);
  switch (r.type) {
    case RegType::u16:
    case RegType::s16: return {low};
    case RegType::u32_high_first:
    case RegType::s32_high_first: return {high, low};
    case RegType::u32_low_first:
    case RegType::s32_low_first: return {low, high};
    // The other byte is 0: whoever assembles a word from two byte fields ORs them.
    case RegType::u8_low: return {low};
    case RegType::u8_high: return {static_cast<std::uint16_t>(low << 8)};
  }
  return {};
}

std::optional<std::string> check_plausible(const Register& r, double value) {
  if (std::isfinite(value) && value >= r.min && value <= r.max) return std::nullopt;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.*s %g outside its plausible range %g..%g (register %u)",
                static_cast<int>(r.field.size()), r.field.data(), value, r.min, r.max, r.address);
  return std::string(buf);
}

std::vector<Block> plan_blocks(std::span<const Register> regs, int max_gap, int max_block, int align) {
  std::vector<const Register*> sorted;
  for (const auto& r : regs) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const Register* a, const Register* b) { return a->address < b->address; });
  std::vector<Block> out;
  for (const Register* r : sorted) {
    const int first = r->address, last = r->address + word_count(r->type) - 1;
    if (!out.empty()) {
      Block& b = out.back();
      const int block_last = b.start + b.count - 1;
      const int gap = first - block_last - 1;
      const bool same_window = align <= 0 || b.start / align == last / align;
      if (gap <= max_gap && last - b.start + 1 <= max_block && same_window) {
        b.count = static_cast<std::uint16_t>(std::max(block_last, last) - b.start + 1);
        continue;
      }
    }
    out.push_back({static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last - first + 1)});
  }
  return out;
}

}  // namespace drivers

#include "daemon/loop/charge_block.hpp"

#include <fmt/format.h>

namespace shackd {

void ChargeBlock::build(std::vector<devices::ChargeLimitSlot> slots, const std::map<std::string, ChargeLimitRow>& rows,
                        const FindWriter& writer, const ChargeLimit::Save& save) {
  limits_.clear();
  resumed_.clear();
  for (auto& slot : slots) {
    RegisterSwapper* w = writer(slot.device);
    const auto row = rows.find(slot.spec.name);
    const bool held = row != rows.end() && row->second.applied;
    if (!w || (!slot.configured && !held)) continue;
    ChargeLimit limit(std::move(slot.spec), *w, save);
    if (row != rows.end()) limit.resume(row->second);
    if (held) {
      resumed_.push_back(
          fmt::format("{}: held at 0 A when shackd stopped; will put back {}", limit.spec().label, row->second.saved));
    }
    limits_.push_back({std::move(limit), !slot.configured});
  }
}

std::vector<ChargeBlock::Note> ChargeBlock::step(bool blocked) {
  std::vector<Note> out;
  for (auto& [limit, retiring] : limits_) {
    for (auto& n : limit.step(blocked && !retiring)) out.push_back({limit.spec().label, std::move(n)});
  }
  return out;
}

}  // namespace shackd

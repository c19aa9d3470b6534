#include "daemon/core/overrides.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/text/nearest.hpp"
#include "drivers/mqtt/commands.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

std::variant<OverrideRequest, OverrideRefusal> read_override(const std::vector<LoadRef>& loads, const std::string& addressed,
                                                             const std::string& payload, rules::SteadyTime now) {
  // Matched against the configured loads, by relay id or by name (folded: an owner who names a
  // load "Antminer A" writes antminer-a): nothing can be injected through a topic.
  const auto found = find_load(loads, addressed);
  if (found.size() != 1) {
    // The refusal says which ids there are, and the nearest one.
    const std::string shown = drivers::text::clean_utf8(addressed, 40);
    std::vector<std::string_view> ids;
    for (const auto& l : loads) ids.push_back(l.id);
    const std::string_view near = text::nearest(shown, ids);
    std::vector<std::string_view> which;
    for (const auto* l : found) which.push_back(l->id);
    return OverrideRefusal{
        "", found.empty() ? fmt::format("no load '{}'{} (the ids are {})", shown,
                                        near.empty() ? "" : fmt::format(": did you mean {}?", near), fmt::join(ids, ", "))
                          : fmt::format("'{}' names more than one load ({}): use the id", shown, fmt::join(which, ", "))};
  }
  const LoadRef& load = *found.front();
  const auto parsed = drivers::mqtt::parse_mode_command(payload);
  if (const auto* why = std::get_if<std::string>(&parsed)) return OverrideRefusal{load.id, *why};
  const auto& cmd = std::get<drivers::mqtt::ModeCommand>(parsed);
  using Mode = drivers::mqtt::ModeCommand::Mode;
  OverrideRequest r;
  r.load_id = load.id;
  r.load_name = load.name;
  r.state_key = load.state_key;
  r.value.mode = cmd.mode == Mode::on    ? rules::OverrideMode::on
                 : cmd.mode == Mode::off ? rules::OverrideMode::off
                                         : rules::OverrideMode::automatic;
  if (cmd.duration && cmd.mode != Mode::automatic) r.value.until = now + *cmd.duration;
  r.said = drivers::text::clean_utf8(payload, 40);
  return r;
}

}  // namespace shackd

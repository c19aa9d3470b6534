#include "daemon/core/overrides.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/text/nearest.hpp"
#include "drivers/mqtt/commands.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

Refused<OverrideRequest> read_override(const std::vector<LoadRef>& loads, const std::string& addressed,
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
    std::string rule = found.empty() ? fmt::format("the ids are {}", fmt::join(ids, ", "))
                                     : fmt::format("it names more than one load ({}): use the id", fmt::join(which, ", "));
    std::string said = found.empty() ? fmt::format("no load '{}'{} ({})", shown,
                                                   near.empty() ? "" : fmt::format(": did you mean {}?", near), rule)
                                     : fmt::format("'{}' names more than one load ({}): use the id", shown, fmt::join(which, ", "));
    return Refusal{.load_id = "", .field = "load", .value = shown, .rule = std::move(rule), .said = std::move(said)};
  }
  const LoadRef& load = *found.front();
  const auto parsed = drivers::mqtt::parse_mode_command(payload);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    return Refusal{.load_id = load.id, .field = "mode", .value = drivers::text::clean_utf8(payload, 40), .rule = *why, .said = *why};
  }
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

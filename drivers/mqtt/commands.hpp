#pragma once
// `<prefix>/load/<id>/mode/set`: auto | on | off, optionally for a time ("on 2h", "off 30m",
// "on 1h30m"). Parsed strictly; anything else is refused with the reason.
#include <chrono>
#include <optional>
#include <string>
#include <variant>

namespace drivers::mqtt {

struct ModeCommand {
  enum class Mode { automatic, on, off } mode = Mode::automatic;
  std::optional<std::chrono::seconds> duration;  // nullopt: until changed
};

// The command, or the reason it is refused.
std::variant<ModeCommand, std::string> parse_mode_command(const std::string& payload);

// "<prefix>/load/<id>/mode/set" -> id, if the topic has that shape.
std::optional<std::string> mode_topic_load(const std::string& prefix, const std::string& topic);

}  // namespace drivers::mqtt

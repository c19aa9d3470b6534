#include "drivers/mqtt/commands.hpp"

#include <cctype>
#include <regex>

#include "drivers/text/utf8.hpp"

namespace drivers::mqtt {

namespace {
constexpr long long kMaxSeconds = 7LL * 24 * 3600;  // an override longer than a week is a mistake
constexpr std::size_t kMaxCommandBytes = 64;
}

std::variant<ModeCommand, std::string> parse_mode_command(const std::string& payload) {
  // The longest valid command is "auto" or "off 9999999d…" (under 40 bytes). Anything much longer is
  // refused before the regex: libstdc++'s std::regex recurses per character, and a long run of
  // spaces in a neighbour's payload would overflow the loop's stack.
  if (payload.size() > kMaxCommandBytes) {
    return "payload of " + std::to_string(payload.size()) + " bytes is not auto, on or off (at most " +
           std::to_string(kMaxCommandBytes) + " bytes)";
  }
  std::string p;
  for (char c : payload) p += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!p.empty() && std::isspace(static_cast<unsigned char>(p.back()))) p.pop_back();
  while (!p.empty() && std::isspace(static_cast<unsigned char>(p.front()))) p.erase(0, 1);
  static const std::regex shape(R"(^(auto|on|off)(\s+((\d+d)?(\d+h)?(\d+m)?(\d+s)?))?$)");
  std::smatch m;
  if (!std::regex_match(p, m, shape)) {
    return "payload '" + text::clean_utf8(payload, 40) + "' is not auto, on or off, optionally with a time like 2h or 1h30m";
  }
  ModeCommand c;
  c.mode = m[1] == "on" ? ModeCommand::Mode::on : m[1] == "off" ? ModeCommand::Mode::off : ModeCommand::Mode::automatic;
  if (m[2].matched) {
    if (c.mode == ModeCommand::Mode::automatic) return "auto takes no time: it is where an override ends";
    if (m[3].length() == 0) return "payload '" + text::clean_utf8(payload, 40) + "': the time needs a unit: d, h, m or s";
    long long total = 0;
    static const std::regex part(R"((\d+)([dhms]))");
    const std::string spec = m[3];
    for (auto it = std::sregex_iterator(spec.begin(), spec.end(), part); it != std::sregex_iterator(); ++it) {
      const std::string digits = (*it)[1];
      if (digits.size() > 7) return "payload '" + text::clean_utf8(payload, 40) + "': the time is too long";
      const long long n = std::stoll(digits);
      const char unit = (*it)[2].str()[0];
      total += n * (unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
    }
    if (total <= 0) return "payload '" + text::clean_utf8(payload, 40) + "': the time must be above 0";
    if (total > kMaxSeconds) return "payload '" + text::clean_utf8(payload, 40) + "': at most 7 days; for longer, change the profile";
    c.duration = std::chrono::seconds(total);
  }
  return c;
}

std::optional<std::string> mode_topic_load(const std::string& prefix, const std::string& topic) {
  const std::string head = prefix + "/load/", tail = "/mode/set";
  if (topic.size() <= head.size() + tail.size() || topic.rfind(head, 0) != 0 ||
      topic.compare(topic.size() - tail.size(), tail.size(), tail) != 0) {
    return std::nullopt;
  }
  std::string id = topic.substr(head.size(), topic.size() - head.size() - tail.size());
  if (id.find('/') != std::string::npos) return std::nullopt;
  return id;
}

}  // namespace drivers::mqtt

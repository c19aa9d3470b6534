#pragma once
// Logging to stderr, where journald picks it up. Under systemd (JOURNAL_STREAM set) each line
// carries its syslog priority as <N>; in a terminal it reads "warn: ...".
// A log line that cannot be written (stderr closed, journald restarting and its pipe gone) is
// lost and counted, never an exception or an exit: the controller outlives its log.
#include <fmt/format.h>

#include <cstdint>
#include <string_view>

namespace shackd::log {

enum class Level { error = 3, warn = 4, info = 6, debug = 7 };
void write(Level level, std::string_view message) noexcept;
void set_debug(bool on);
// Lines that could not be written since the start.
std::uint64_t lost_lines();

// At most kLimitedPerMinute lines a minute for one `key` (a sensor's topic, a relay, a kind of
// refusal); the next line after a quiet spell says how many were suppressed. A flood of bad
// messages must not become a flood of journal lines on an SD card.
inline constexpr int kLimitedPerMinute = 5;
void limited(std::string_view key, Level level, std::string_view message) noexcept;

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { write(Level::error, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { write(Level::warn, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { write(Level::info, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { write(Level::debug, fmt::format(f, std::forward<Args>(a)...)); }

}  // namespace shackd::log

#pragma once
// Logging to stderr, where journald picks it up. Under systemd (JOURNAL_STREAM set) each line
// carries its syslog priority as <N>; in a terminal it reads "warn: ...".
#include <fmt/format.h>

#include <string_view>

namespace shackd::log {

enum class Level { error = 3, warn = 4, info = 6, debug = 7 };
void write(Level level, std::string_view message);
void set_debug(bool on);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { write(Level::error, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { write(Level::warn, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { write(Level::info, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { write(Level::debug, fmt::format(f, std::forward<Args>(a)...)); }

}  // namespace shackd::log

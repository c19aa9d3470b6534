#include "daemon/system/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace shackd::log {

namespace {
bool g_debug = false;
std::mutex g_mutex;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}  // namespace

void set_debug(bool on) { g_debug = on; }

void write(Level level, std::string_view message) {
  if (level == Level::debug && !g_debug) return;
  std::lock_guard lock(g_mutex);
  if (g_journal) {
    fmt::print(stderr, "<{}>{}\n", static_cast<int>(level), message);
  } else {
    // In a terminal, the local time first (journald adds its own).
    const char* name = level == Level::error ? "error" : level == Level::warn ? "warn" : level == Level::info ? "info" : "debug";
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    fmt::print(stderr, "{:02}:{:02}:{:02} {}: {}\n", tm.tm_hour, tm.tm_min, tm.tm_sec, name, message);
  }
  std::fflush(stderr);
}

}  // namespace shackd::log

#include "daemon/system/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <string>

namespace shackd::log {

namespace {
bool g_debug = false;
std::mutex g_mutex;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
std::atomic<std::uint64_t> g_lost{0};

struct Window {
  std::chrono::steady_clock::time_point start;
  int written = 0;
  std::uint64_t suppressed = 0;
};
std::map<std::string, Window, std::less<>> g_windows;  // guarded by g_mutex

// One write(2) of the whole line, retried on EINTR and short writes; no stdio buffer (a failed
// fflush would keep its bytes and fail again) and no exception (fmt::print throws on EPIPE).
void emit(const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++g_lost;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string format_line(Level level, std::string_view message) {
  if (g_journal) return fmt::format("<{}>{}\n", static_cast<int>(level), message);
  // In a terminal, the local time first (journald adds its own).
  const char* name = level == Level::error ? "error" : level == Level::warn ? "warn" : level == Level::info ? "info" : "debug";
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}:{:02} {}: {}\n", tm.tm_hour, tm.tm_min, tm.tm_sec, name, message);
}

}  // namespace

void set_debug(bool on) { g_debug = on; }
std::uint64_t lost_lines() { return g_lost; }

void write(Level level, std::string_view message) noexcept {
  if (level == Level::debug && !g_debug) return;
  try {
    const std::string line = format_line(level, message);
    std::lock_guard lock(g_mutex);
    emit(line);
  } catch (...) {
    ++g_lost;  // out of memory for the line: it is lost, the caller goes on
  }
}

void limited(std::string_view key, Level level, std::string_view message) noexcept {
  try {
    std::uint64_t suppressed = 0;
    {
      std::lock_guard lock(g_mutex);
      const auto now = std::chrono::steady_clock::now();
      if (g_windows.size() > 512) g_windows.clear();  // many keys: forget, never grow without bound
      auto it = g_windows.find(key);
      if (it == g_windows.end()) it = g_windows.emplace(std::string(key), Window{now, 0, 0}).first;
      Window& w = it->second;
      if (now - w.start >= std::chrono::minutes(1)) {
        suppressed = w.suppressed;
        w = Window{now, 0, 0};
      }
      if (w.written >= kLimitedPerMinute) {
        ++w.suppressed;
        return;
      }
      ++w.written;
    }
    if (suppressed == 0) write(level, message);
    else write(level, fmt::format("{} ({} more like this suppressed in the last minute)", message, suppressed));
  } catch (...) {
    ++g_lost;
  }
}

}  // namespace shackd::log

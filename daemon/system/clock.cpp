#include "daemon/system/clock.hpp"

#include <fmt/format.h>

#include <ctime>

namespace shackd {

namespace {
class SystemClock final : public LoopClock {
 public:
  rules::SteadyTime steady() const override { return std::chrono::steady_clock::now(); }
  std::int64_t wall_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

LoopClock& system_clock() {
  static SystemClock c;
  return c;
}

std::optional<int> local_minute(std::int64_t wall_s) {
  if (wall_s < 1735689600) return std::nullopt;  // 2025-01-01
  const std::time_t t = static_cast<std::time_t>(wall_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm.tm_hour * 60 + tm.tm_min;
}

std::optional<std::string> local_day(std::int64_t wall_s) {
  if (!local_minute(wall_s)) return std::nullopt;
  const std::time_t t = static_cast<std::time_t>(wall_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace shackd

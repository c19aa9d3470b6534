// Preferred windows in local time. A window whose end is before its start wraps midnight.
#include "rules/detail.hpp"

namespace rules::detail {

bool in_windows(const std::vector<TimeWindow>& windows, int minute_of_day) {
  if (windows.empty()) return true;
  for (const TimeWindow& w : windows) {
    const bool inside = w.start_min < w.end_min
                            ? minute_of_day >= w.start_min && minute_of_day < w.end_min
                            : minute_of_day >= w.start_min || minute_of_day < w.end_min;
    if (inside) return true;
  }
  return false;
}

}  // namespace rules::detail

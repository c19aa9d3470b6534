#pragma once
// The controller's own health as inputs (issue 47): under-voltage and throttling, its processor's
// temperature, its storage's wear estimate and how fast it writes, each an alarm with
// hysteresis, so that a flag that flickers on a sagging supply at night, or a temperature that
// hovers at its limit, raises once and clears once. And the owner's choice to shed the loads
// while the controller overheats (a hot room it shares with the miners). Pure: readings and time
// in, alarms out; what reads them is the shell's (drivers/host/pi_health.hpp).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/time.hpp"

namespace rules {

struct HostLimits {
  // The processor's temperature: an alarm at or above hot_c, cleared below hot_clear_c. (A
  // Raspberry Pi throttles its ARM cores progressively between 80 °C and its hard limit of 85 °C:
  // Raspberry Pi documentation, "Frequency management and thermal control".)
  double hot_c = 80;
  double hot_clear_c = 75;
  // Loads shed (miners and heaters off, fans left to cool) at or above this, until the
  // temperature is shed_clear_margin_c below it; unset: never (the owner's choice).
  std::optional<double> shed_above_c;
  double shed_clear_margin_c = 5;
  // An under-voltage or throttling flag clears once it has not been seen for this long.
  Duration flag_clear_after = std::chrono::minutes(10);
  // The process's own writes to storage: an alarm above write_alarm_mb_per_h over write_window,
  // cleared below write_clear_mb_per_h.
  double write_alarm_mb_per_h = 30;
  double write_clear_mb_per_h = 20;
  Duration write_window = std::chrono::minutes(10);
  // The storage's own estimate of its life used, in %: an alarm at or above it (a pre-EOL
  // "warning" or "urgent" raises it too). Cleared below it by 10 (a new card).
  int worn_pct = 90;
  bool operator==(const HostLimits&) const = default;
};

// What was read this time; missing: not there, or not read.
struct HostInputs {
  std::optional<bool> under_voltage{};
  std::optional<bool> throttled{};
  std::optional<double> temp_c{};
  std::optional<int> life_used_pct{};
  std::optional<int> pre_eol{};  // 1 normal, 2 warning, 3 urgent
  std::optional<std::uint64_t> written_bytes{};  // since the process started
};

enum class HostAlarm : std::uint8_t { under_voltage, throttled, hot, worn_storage, heavy_writes, count };
inline constexpr std::size_t kHostAlarms = static_cast<std::size_t>(HostAlarm::count);
// Stable snake_case name, as published: "controller_under_voltage".
const char* host_alarm_name(HostAlarm a);

// The process's writes over a sliding window, from samples of its running total (bounded: the
// oldest sample goes first).
class WriteRate {
 public:
  void add(SteadyTime at, std::uint64_t bytes);
  // MB (10^6 bytes) an hour over the samples within `window` of the newest; nullopt until they
  // span half of it.
  std::optional<double> mb_per_h(Duration window) const;

 private:
  struct Sample {
    SteadyTime at;
    std::uint64_t bytes;
  };
  static constexpr std::size_t kSamples = 128;
  std::array<Sample, kSamples> samples_{};
  std::size_t count_ = 0, next_ = 0;
};

struct HostHealthState {
  std::array<bool, kHostAlarms> active{};
  std::optional<SteadyTime> under_voltage_seen, throttled_seen;  // when each flag was last read set
  bool shedding = false;
  WriteRate writes;
  std::optional<double> write_mb_per_h;  // as last computed
};

struct HostAlarmChange {
  HostAlarm alarm;
  bool raised = false;  // raised, or cleared
  std::string text;     // for people: "controller under-voltage: its supply sagged (flag set now)"
};

// One reading into the state: the alarms that changed, and whether the loads are shed now.
std::vector<HostAlarmChange> host_health_step(HostHealthState& state, const HostInputs& in, const HostLimits& limits,
                                              SteadyTime now);

}  // namespace rules

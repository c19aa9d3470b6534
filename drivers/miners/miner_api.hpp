#pragma once
// A miner's own API as the loop needs it: its telemetry, and sleep, wake and (where the firmware
// takes one) a power target. Each firmware is data (miner_kind.hpp) and one client over a
// request/reply exchange (tcp_exchange.hpp on the wire, the simulator's handler in tests).
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace drivers::miners {

enum class MinerState { unknown, mining, sleeping };

struct Telemetry {
  bool answered = false;  // the API answered this read
  std::string error;      // why not, for people ("connect: refused")
  MinerState state = MinerState::unknown;
  std::optional<double> power_w;       // what the miner says it draws
  std::optional<double> hashrate_ths;  // TH/s
  std::optional<double> max_temp_c;    // its hottest board or chip sensor
  std::optional<double> fan_rpm;       // its fastest fan
  // Its own "hot" limit, where the firmware says (fans at 100 %; its shutdown is higher still).
  std::optional<double> hot_temp_c;
  std::string firmware;                // "LUXminer 2025.6.2.1", as its version reply says
  std::optional<double> power_target_w;  // the target it runs to, where it has one
};

struct CommandResult {
  bool ok = false;
  std::string detail;  // the miner's words, or why it failed
  // Refused for good: this model or firmware does not do it (a LuxOS model without power
  // targeting), not a lost session or a busy miner.
  bool unsupported = false;
};

// One request, one reply. Throws std::runtime_error when the miner does not answer.
using Exchange = std::function<std::string(const std::string& request)>;

class MinerApi {
 public:
  virtual ~MinerApi() = default;
  virtual Telemetry read() = 0;
  virtual CommandResult sleep() = 0;
  virtual CommandResult wake() = 0;
  // Watts the firmware is to draw. Only kinds with takes_power_target implement it.
  virtual CommandResult set_power_target(double /*watts*/) { return {false, "this firmware takes no power target"}; }
  // The range of targets it takes, where it says (min, default, max W). Throws when it does not answer.
  struct PowerRange {
    double min_w = 0, default_w = 0, max_w = 0;
  };
  virtual std::optional<PowerRange> power_range() { return std::nullopt; }
};

std::string_view state_name(MinerState s);

// A figure a firmware changes rarely (its temperature limits), asked at the first poll and every
// 30th after: one command a poll would be wasted. A read that fails keeps the figure last read, so
// a lost reply does not drop a safety limit for 30 polls; one that answers without it clears it.
class Occasional {
 public:
  template <typename Read>  // Read: () -> std::optional<double>; throws std::runtime_error unanswered
  std::optional<double> get(Read read) {
    if (polls_++ % 30 == 0) {
      try {
        value_ = read();
      } catch (const std::runtime_error&) {
      }
    }
    return value_;
  }

 private:
  unsigned polls_ = 0;
  std::optional<double> value_;
};

}  // namespace drivers::miners

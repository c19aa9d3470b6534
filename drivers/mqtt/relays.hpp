#pragma once
// Commanded is not observed. The manager sends a relay's desired state when it changes, again on
// a resend interval, and at once after a reconnect; it believes the state only when the device
// reports it. A relay that does not confirm in time raises relay_unconfirmed and is retried with
// backoff. Commands always go at QoS 1 and never retained: a retained ON would switch a Tasmota
// relay back on when it reboots.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/power_on_watch.hpp"
#include "drivers/mqtt/relay_alarm.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "rules/time.hpp"

namespace drivers::mqtt {

using rules::SteadyTime;

// In milliseconds: the config gives whole seconds, but a test on the stepped clock (and a relay
// on a fast LAN) may time a confirmation in less than one.
struct RelayTiming {
  std::chrono::milliseconds resend_interval{60'000};
  std::chrono::milliseconds confirm_timeout{10'000};
  std::chrono::milliseconds retry_min{5'000};
  std::chrono::milliseconds retry_max{120'000};
  bool operator==(const RelayTiming&) const = default;
};

struct RelayStatus {
  std::optional<bool> desired;
  std::optional<bool> observed;          // only what the device said
  std::optional<bool> available;         // from its availability topic; unknown until it speaks
  std::optional<SteadyTime> observed_at;
  std::optional<SteadyTime> observed_since;  // when the observed state last changed
  std::optional<SteadyTime> sent_at;     // last command that went out
  std::optional<SteadyTime> confirm_by;  // desired not yet confirmed: the deadline
  std::optional<SteadyTime> retry_at;
  bool unconfirmed = false;              // past the deadline without a matching report
  bool reassert_due = false;             // it reported the wrong state or came back: send at the next tick
  int retries = 0;
  int speed_pct = -1;
  std::optional<double> power_w;         // the load's draw, where the relay meters it
  std::optional<SteadyTime> power_at;
};

class RelayManager {
 public:
  // The least time between two commands to one relay when it is put right (a re-assert).
  static constexpr std::chrono::milliseconds kReassertGap{1000};
  // publish(topic, payload): true when the client took it. QoS 1 and retain=false are the
  // manager's to choose, not the callback's.
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, int qos, bool retain)>;

  RelayManager(std::vector<RelayConfig> relays, RelayTiming timing, Publish publish);

  std::vector<std::string> subscriptions() const;
  bool has(const std::string& id) const { return status_.count(id) > 0; }
  const RelayConfig& config(const std::string& id) const;

  // Sends at once when the desired state changes.
  void set_desired(const std::string& id, bool on, SteadyTime now);
  void set_speed(const std::string& id, int percent);
  // No state is desired any more: nothing is resent or awaited (a relay the safe state at a start
  // switched OFF that no load turns out to switch). Unknown ids are ignored.
  void release(const std::string& id);
  // Resends, retries, dead-man refreshes and confirmation deadlines.
  void tick(SteadyTime now);
  // true when the message was about one of the relays.
  bool on_message(const std::string& topic, const std::string& payload, SteadyTime now);
  // After a (re)connect: re-assert every desired state now, instead of anything queued.
  void on_connected(SteadyTime now);

  const RelayStatus& status(const std::string& id) const { return status_.at(id); }
  // How each relay powers up after a cut, as its device last said (asked at each connect, when
  // it comes back online, and every few hours: power_on_watch.hpp).
  const PowerOnStatus& power_on(const std::string& id) const { return power_on_.status(id); }
  std::vector<RelayAlarm> take_alarms();
  long long commands_sent() const { return sent_; }

 private:
  void send(const RelayConfig& r, RelayStatus& s, SteadyTime now);

  std::vector<RelayConfig> relays_;
  RelayTiming timing_;
  Publish publish_;
  std::map<std::string, RelayStatus> status_;
  PowerOnWatch power_on_;
  std::vector<RelayAlarm> alarms_;
  int rpc_id_ = 1;
  long long sent_ = 0;
};

}  // namespace drivers::mqtt

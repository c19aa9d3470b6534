#pragma once
// The one door to the site's history (issue 57): a component that has something to say (an alarm
// raised or cleared, an actuation, an override, a config change) hands an EventNote to an Events
// sink and knows nothing of where it goes. The daemon's sink is the EventLog (daemon/events/),
// which numbers it, keeps it through the recorder and sends it through the outbox. Here, in the
// core's vocabulary, so that every component can speak it without including another.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "rules/decision.hpp"
#include "rules/reason.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

struct EventNote {
  std::string kind;  // "alarm", "alarm_end", "actuation", "override", "config", "lifecycle"
  std::string load_id;  // empty: about the site
  rules::Reason reason;
  std::string text;
  std::int64_t wall_s = 0;
  // The cycle it is about (both or neither): the battery, PV, load and temperature it was decided on.
  const rules::Snapshot* snapshot = nullptr;
  const rules::Decision* decision = nullptr;
  std::optional<bool> on;          // an actuation's new state
  std::optional<double> target_w;  // an actuation through a miner's API that set its power target
  bool stored = true;              // false: on MQTT only (the store's own alarms: it cannot take them)
};

// "alarm" or "alarm_end".
inline const char* alarm_kind(bool raised) { return raised ? "alarm" : "alarm_end"; }

// An event of a load (`load_id`) or of the site (empty), about no cycle's figures.
inline EventNote load_event(std::string kind, std::string load_id, rules::Reason reason, std::string text,
                            std::int64_t wall_s) {
  EventNote n;
  n.kind = std::move(kind);
  n.load_id = std::move(load_id);
  n.reason = reason;
  n.text = std::move(text);
  n.wall_s = wall_s;
  return n;
}
inline EventNote site_event(std::string kind, std::string text, std::int64_t wall_s, rules::Reason reason = {}) {
  return load_event(std::move(kind), {}, reason, std::move(text), wall_s);
}
// Stamped with the cycle's battery, PV, load and temperature.
inline EventNote about_cycle(EventNote n, const rules::Snapshot& snap, const rules::Decision& d) {
  n.snapshot = &snap;
  n.decision = &d;
  return n;
}

class Events {
 public:
  // Never throws: an event is a record of the cycle, and one that fails (the store's queue, the
  // broker, text that is not UTF-8) is counted by the sink, never allowed to end the cycle.
  virtual void add(const EventNote& note) noexcept = 0;

 protected:
  ~Events() = default;
};

}  // namespace shackd

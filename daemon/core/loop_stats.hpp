#pragma once
// The safety core's own vocabulary (docs/development.md, "Layout"): the side jobs around the
// safety path and the loop's figures. Every side job and exporter speaks of these; none of them
// is imported back into the core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace shackd {

// The jobs of a cycle around the safety path (read -> decide -> switch -> watchdog). Each runs in
// its own guard: one that throws is counted in LoopStats and the cycle goes on.
enum class SideJob { reload, poll, mqtt_in, journal, alarms, charge_block, events, energy, publish, persist, metrics, shadow, count };
inline constexpr std::size_t kSideJobs = static_cast<std::size_t>(SideJob::count);
const char* side_job_name(SideJob j);

// The loop's own health, published on <prefix>/loop: whether it keeps its cadence and whether
// the store keeps up. A tick counts as missed when a cycle starts more than half an interval late.
struct LoopStats {
  std::uint64_t cycles = 0;
  std::uint64_t missed = 0;
  double last_ms = 0, longest_ms = 0;  // cycle duration, monotonic
  std::uint64_t events = 0;            // events recorded by this process
  std::size_t store_queued = 0;        // events and load states waiting for the database
  std::uint64_t store_errors = 0;      // failed flushes (disk full, read-only, locked)
  std::array<std::uint64_t, kSideJobs> failed{};  // side jobs that threw, by job
  std::string last_failure;            // "<job>: <what>", the newest
  std::uint64_t undecided = 0;         // cycles whose snapshot or rules threw: no decision, no ping
  std::uint64_t unswitched = 0;        // loads whose relay step threw (the others switched): no ping
  std::uint64_t mqtt_dropped = 0;      // messages not handled: past a cycle's share
  std::uint64_t mqtt_dropped_by_link = 0;  // messages the link's full queue turned away
  std::uint64_t mqtt_refused = 0;      // messages refused unread: too large for any device's or command's
  std::uint64_t publishes_refused = 0;  // our own messages the link refused (paho's buffer full); a
                                       // retained one goes again next cycle, a superseded one is not missed
  std::uint64_t log_lost = 0;          // log lines that could not be written (stderr closed)
  // Messages the broker dropped past its queues (its max_queued_messages), as it counts them: for
  // all its clients together, shackd's QoS 1 subscriptions among them or not (the broker does not
  // say whose). Counted from the first figure heard; `broker_drops_heard` false: it has not said.
  std::uint64_t broker_dropped = 0;
  bool broker_drops_heard = false;
  // Losses of the side jobs' queues: counted, shown (status, <prefix>/loop, metrics) and told as
  // an alarm, never silent (issue 44).
  // Each event's fates are counted where they happen, and neither side speaks for the other
  // (issue 56, daemon/events/event_fates.hpp): an event in both counts is counted once as lost.
  std::uint64_t events_unstored = 0;   // events the store dropped (its queues' limits, a row refused)
  std::uint64_t samples_unstored = 0;  // telemetry samples and minutes the recorder dropped
  std::uint64_t events_unsent = 0;     // events the outbox dropped past its limit
  std::uint64_t events_lost = 0;       // events neither stored nor sent (also in the two above)
  double store_write_s = 0;            // a database write under way for this long; 0: none
  double store_unread_s = 0;           // the start's stored state not read for this long (every relay OFF); 0: read
  std::uint64_t publish_coalesced = 0;  // cycle views the publisher's thread never sent: a newer one won
  std::uint64_t publish_dropped = 0;    // other messages the publisher's full queue dropped
  double publish_busy_s = 0;            // a publish under way for this long; 0: none
  std::uint64_t failures() const {
    std::uint64_t n = 0;
    for (const auto f : failed) n += f;
    return n;
  }
};

// What the loop's figures have to say in the STATUS= line and `status` (", 3 MQTT message(s)
// dropped, store slow: ..."): empty when all is well. `safe_state`: the stored state not yet taken.
std::string loop_status(const LoopStats& s, bool safe_state);

}  // namespace shackd

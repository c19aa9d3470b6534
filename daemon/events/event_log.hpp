#pragma once
// The site's events (actuations, alarms, overrides, the config's changes, the lifecycle) as a
// component of their own (issue 44): each made once, numbered (the run's id and `seq`, issue 49),
// handed to the store through a narrow sink and sent in order through the outbox, which a thread
// of its own paces by the broker's acknowledgements. It owns the numbering, the events held until
// the store is open, and the outbox; it reads nothing of the loop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/events.hpp"
#include "daemon/core/loop_stats.hpp"
#include "daemon/events/event_fates.hpp"
#include "daemon/events/outbox.hpp"
#include "daemon/store/runtime_store.hpp"
#include "rules/decision.hpp"
#include "rules/reason.hpp"
#include "rules/snapshot.hpp"
#include "rules/time.hpp"

namespace shackd {

// The daemon's Events sink (daemon/core/events.hpp): every component's events come through add().
class EventLog final : public Events {
 public:
  // Where an event goes on MQTT: <prefix>/event and, with the uplink, the fleet's topic.
  struct Route {
    const std::string& prefix;
    bool uplink = false;
    const std::string& site_id;
  };
  // The cycle an event is about: the battery, the PV, the load and the temperature it was decided on.
  struct Context {
    const rules::Snapshot& snap;
    const rules::Decision& decision;
  };
  using Store = std::function<void(Event)>;
  using Failed = std::function<void(const char* what)>;

  // `run_ms`: this process's start, the `run` of its ids. `store`: where each event goes to be
  // kept (the recorder's next records).
  // `failed`: an event that could not be made (counted as the `events` side job's failure).
  void wire(std::int64_t run_ms, Store store, Failed failed);
  // Where events go on MQTT from here on: <prefix>/event and, with the uplink, the fleet's topic
  // under the site's id (set at the start, when the store gives the id, and by a reload).
  void route_to(std::string prefix, bool uplink, std::string site_id);
  // One event as a component hands it: stored and sent, or (`stored` false) sent only. Never throws.
  void add(const EventNote& note) noexcept override;
  // The events' fates into the loop's figures (events_unstored, events_lost), and an events_lost
  // alarm when more were lost, at most every kLostAlarmEvery.
  void report(LoopStats& stats, rules::SteadyTime now, std::int64_t wall_s);
  // One event to the store and MQTT. Throws what its parts throw: the caller counts it.
  void record(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
              const std::string& detail, std::int64_t wall_now, const Context* cycle, std::optional<bool> on,
              std::optional<double> target_w);
  // One event on MQTT only, with the next id: the store's own alarms (it is what cannot take them).
  void send(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
            const std::string& detail, std::int64_t wall_now);
  // A config event made before the store is open (the profiles' changes), made later by take_held.
  void hold(std::string detail) { held_.push_back(std::move(detail)); }
  std::vector<std::string> take_held() { return std::exchange(held_, {}); }
  // The outbox pumped once a cycle; its drops, and the events neither stored nor sent, are said
  // in the log. Returns the events not sent (dropped past the outbox's limit: in the database
  // unless the store dropped them too, and then counted as lost).
  std::uint64_t pump();
  // Where the store tells each event's fate (StoreSide::on_event_fate): safe from any thread.
  std::function<void(std::uint64_t seq, bool stored)> store_fate() const;
  // Each event's fates as counted so far: not stored, not sent, neither (lost, counted once).
  EventFates::Counts fates() const { return fates_->counts(); }
  // The alarm's text when more events were lost since the last one, at most every
  // kLostAlarmEvery (a flood must not become a flood of alarms, each an event to lose).
  static constexpr std::chrono::minutes kLostAlarmEvery{10};
  std::optional<std::string> lost_alarm(rules::SteadyTime now);
  EventOutbox& outbox() { return outbox_; }
  const EventOutbox& outbox() const { return outbox_; }

 private:
  std::int64_t run_ms_ = 0;
  std::uint64_t seq_ = 0;  // the last event's `seq`
  std::uint64_t unsent_ = 0, lost_ = 0;  // as last said in the log
  std::uint64_t lost_alarmed_ = 0;        // as last said in an alarm
  std::optional<rules::SteadyTime> lost_alarmed_at_;
  std::vector<std::string> held_;
  // Shared with the recorder's and the outbox's threads, which tell it; outlives either.
  std::shared_ptr<EventFates> fates_ = std::make_shared<EventFates>();
  Store store_;
  Failed failed_;
  std::string prefix_, site_id_;  // the route in force (route_to)
  bool uplink_ = false;
  // Every event goes out through it, in order, each message confirmed (issue 49).
  EventOutbox outbox_;

  void send_numbered(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
                     const std::string& detail, std::int64_t wall_now, std::uint64_t seq);
};

}  // namespace shackd

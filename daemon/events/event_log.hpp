#pragma once
// The site's events (actuations, alarms, overrides, the config's changes, the lifecycle) as a
// component of their own (issue 44): each made once, numbered (the run's id and `seq`, issue 49),
// handed to the store through a narrow sink and sent in order through the outbox, which a thread
// of its own paces by the broker's acknowledgements. It owns the numbering, the events held until
// the store is open, and the outbox; it reads nothing of the loop.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/publish/outbox.hpp"
#include "daemon/store/runtime_store.hpp"
#include "rules/decision.hpp"
#include "rules/reason.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

class EventLog {
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
  using Direct = std::function<void(const std::string& topic, const std::string& payload)>;
  using Store = std::function<void(Event)>;

  // `run_ms`: this process's start, the `run` of its ids. `store`: where each event goes to be
  // kept (the recorder's next records). `direct`: set, events go there instead of the outbox (a
  // test's recording publisher, with no broker to confirm anything).
  void wire(std::int64_t run_ms, Store store, Direct direct);
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
  // The outbox pumped once a cycle; its drops are said in the log. Returns the events not sent
  // (dropped past its limit; the store has them).
  std::uint64_t pump();
  EventOutbox& outbox() { return outbox_; }
  const EventOutbox& outbox() const { return outbox_; }

 private:
  std::int64_t run_ms_ = 0;
  std::uint64_t seq_ = 0;  // the last event's `seq`
  std::uint64_t unsent_ = 0;
  std::vector<std::string> held_;
  Store store_;
  Direct direct_;
  // Every event goes out through it, in order, each message confirmed (issue 49).
  EventOutbox outbox_;
};

}  // namespace shackd

// The components' vocabulary for what they say and what they lose (issue 57): the Events sink
// (daemon/core/events.hpp) as the EventLog implements it, and a side job's guard
// (daemon/core/side_guard.hpp), on values.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/core/events.hpp"
#include "daemon/core/side_guard.hpp"
#include "daemon/events/event_log.hpp"

using namespace shackd;

TEST_CASE("the Events sink: stored and sent, sent only, numbered either way; a store that throws is counted") {
  EventLog log;
  std::vector<Event> stored;
  std::vector<std::string> failures;
  bool refuse = false;
  log.wire(
      1000,
      [&](Event e) {
        if (refuse) throw std::runtime_error("the queue is full");
        stored.push_back(std::move(e));
      },
      [&](const char* what) { failures.emplace_back(what); });
  log.route_to("shack", false, "site1");

  rules::Snapshot snap;
  rules::Decision d;
  d.battery.measured_v = 52.4;
  EventNote on = about_cycle(load_event("actuation", "miner", {rules::ReasonCode::none}, "switched ON", 100), snap, d);
  on.on = true;
  log.add(on);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].seq == 1);
  CHECK(stored[0].kind == "actuation");
  CHECK(stored[0].load_id == "miner");
  CHECK(stored[0].commanded_on == true);
  CHECK(stored[0].battery_v == 52.4);  // stamped with the cycle it is about
  CHECK(stored[0].at_unix_s == 100);

  // The store's own alarm: on MQTT only (the store is what cannot take it), numbered all the same.
  EventNote store_alarm = site_event("alarm", "store_error: the card is read-only", 101);
  store_alarm.stored = false;
  log.add(store_alarm);
  CHECK(stored.size() == 1);

  log.add(site_event("alarm_end", "controller_hot: cleared", 102));
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].seq == 3);  // the one sent only took 2: a gap says nothing was lost
  CHECK_FALSE(stored[1].load_id);
  CHECK_FALSE(stored[1].battery_v);  // about no cycle
  CHECK(stored[1].detail == "controller_hot: cleared");

  refuse = true;
  CHECK_NOTHROW(log.add(site_event("alarm", "anything", 103)));
  CHECK(failures == std::vector<std::string>{"the queue is full"});
}

TEST_CASE("a side job's guard counts what its job throws, by job, and passes nothing on") {
  LoopStats stats;
  bool next_ran = false;
  guarded(stats, SideJob::publish, [] { throw std::runtime_error("the link refused it"); });
  guarded(stats, SideJob::metrics, [] { throw 42; });
  guarded(stats, SideJob::events, [&] { next_ran = true; });
  CHECK(next_ran);
  CHECK(stats.failed[static_cast<std::size_t>(SideJob::publish)] == 1);
  CHECK(stats.failed[static_cast<std::size_t>(SideJob::metrics)] == 1);
  CHECK(stats.failed[static_cast<std::size_t>(SideJob::events)] == 0);
  CHECK(stats.failures() == 2);
  CHECK(stats.last_failure == "metrics: an unknown exception");
}

// The relay manager's logic with a recording publisher and a stepped clock.
#include <doctest/doctest.h>

#include "drivers/mqtt/relays.hpp"

using namespace drivers::mqtt;
using namespace std::chrono_literals;

namespace {
struct Sent {
  std::string topic, payload;
  int qos;
  bool retain;
};
struct Rig {
  std::vector<Sent> sent;
  bool connected = true;
  rules::SteadyTime now = rules::SteadyTime{} + 1000h;
  RelayManager mgr;
  explicit Rig(RelayConfig r, RelayTiming t = {})
      : mgr({std::move(r)}, t, [this](const std::string& topic, const std::string& p, int qos, bool retain) {
          if (!connected) return false;
          sent.push_back({topic, p, qos, retain});
          return true;
        }) {}
};
RelayConfig tas(std::chrono::seconds dead_man = 0s) {
  RelayConfig r;
  r.id = "dump";
  r.protocol = RelayProtocol::tasmota;
  r.topic = "dump";
  r.dead_man = dead_man;
  return r;
}
}  // namespace

TEST_CASE("a change is sent once, at QoS 1, never retained; a confirmation clears the deadline") {
  Rig rig(tas());
  rig.mgr.set_desired("dump", true, rig.now);
  REQUIRE(rig.sent.size() == 1);
  CHECK(rig.sent[0].topic == "cmnd/dump/POWER1");
  CHECK(rig.sent[0].qos == 1);
  CHECK_FALSE(rig.sent[0].retain);
  rig.mgr.set_desired("dump", true, rig.now);  // no change: nothing sent
  CHECK(rig.sent.size() == 1);
  CHECK(rig.mgr.on_message("stat/dump/POWER1", "ON", rig.now + 1s));
  CHECK(rig.mgr.status("dump").observed == true);
  rig.mgr.tick(rig.now + 30s);
  CHECK(rig.mgr.take_alarms().empty());
  CHECK(rig.sent.size() == 1);
  rig.mgr.tick(rig.now + 61s);  // the resend interval
  CHECK(rig.sent.size() == 2);
}

TEST_CASE("a relay that never confirms raises relay_unconfirmed and is retried with backoff") {
  Rig rig(tas(), RelayTiming{60s, 10s, 5s, 40s});
  rig.mgr.set_desired("dump", true, rig.now);
  rig.mgr.tick(rig.now + 9s);
  CHECK(rig.mgr.take_alarms().empty());
  rig.mgr.tick(rig.now + 10s);
  const auto alarms = rig.mgr.take_alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].code == "relay_unconfirmed");
  CHECK(alarms[0].detail == "commanded ON, device reports nothing");
  CHECK(rig.mgr.status("dump").unconfirmed);
  const auto before = rig.sent.size();
  rig.mgr.tick(rig.now + 15s);  // first retry after retry_min
  CHECK(rig.sent.size() == before + 1);
  rig.mgr.tick(rig.now + 20s);  // the next waits longer
  CHECK(rig.sent.size() == before + 1);
  rig.mgr.tick(rig.now + 25s);
  CHECK(rig.sent.size() == before + 2);
  CHECK(rig.mgr.take_alarms().empty());  // one alarm per episode
  rig.mgr.on_message("stat/dump/POWER1", "ON", rig.now + 26s);
  CHECK_FALSE(rig.mgr.status("dump").unconfirmed);
  CHECK(rig.mgr.take_alarms()[0].code == "relay_confirmed");
}

TEST_CASE("a relay reporting the wrong state is unconfirmed too") {
  Rig rig(tas(), RelayTiming{60s, 10s, 5s, 40s});
  rig.mgr.set_desired("dump", false, rig.now);
  rig.mgr.on_message("stat/dump/POWER1", "ON", rig.now + 1s);
  rig.mgr.tick(rig.now + 11s);
  const auto alarms = rig.mgr.take_alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].detail == "commanded OFF, device reports ON");
}

TEST_CASE("offline and back: an alarm each way") {
  Rig rig(tas());
  rig.mgr.on_message("tele/dump/LWT", "Offline", rig.now);
  CHECK(rig.mgr.status("dump").available == false);
  rig.mgr.on_message("tele/dump/LWT", "Online", rig.now);
  const auto a = rig.mgr.take_alarms();
  REQUIRE(a.size() == 2);
  CHECK(a[0].code == "relay_offline");
  CHECK(a[1].code == "relay_online");
}

TEST_CASE("the dead-man is refreshed at a third of its time") {
  Rig rig(tas(300s), RelayTiming{3600s, 10s, 5s, 120s});  // no resend interval in the way
  rig.mgr.set_desired("dump", true, rig.now);
  rig.mgr.on_message("stat/dump/POWER1", "ON", rig.now);
  const auto after_on = rig.sent.size();
  CHECK(after_on == 2);  // PulseTime, then POWER ON
  rig.mgr.tick(rig.now + 99s);
  CHECK(rig.sent.size() == after_on);
  rig.mgr.tick(rig.now + 100s);
  CHECK(rig.sent.size() == after_on + 2);
  CHECK(rig.sent.back().payload == "ON");
}

TEST_CASE("while disconnected nothing is queued; a reconnect re-asserts the current state only") {
  Rig rig(tas());
  rig.connected = false;
  rig.mgr.set_desired("dump", true, rig.now);
  rig.mgr.set_desired("dump", false, rig.now + 1s);
  rig.mgr.set_desired("dump", true, rig.now + 2s);
  rig.mgr.set_desired("dump", false, rig.now + 3s);
  CHECK(rig.sent.empty());
  rig.connected = true;
  rig.mgr.on_connected(rig.now + 4s);
  REQUIRE(rig.sent.size() == 1);
  CHECK(rig.sent[0].payload == "OFF");
}

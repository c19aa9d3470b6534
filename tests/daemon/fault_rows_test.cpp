// The fault matrix's relay and reload rows, in process on the stepped clock (issue 27): a relay
// that never confirms, a relay that reports the wrong state, a SIGHUP storm. They ran against a
// real broker and the simulator in tests/e2e/fault_matrix.sh, a minute of real time; here the
// whole daemon decides, switches and stores through a FakeLink (tests/support/fake_site.hpp) in a
// few milliseconds, and each row asserts what the matrix did: a ping every cycle (cadence), the
// loads in the state the policy names (safe), the alarm in the real database (persisted). The
// broker outage row is reload_test.cpp's "broker outage in process"; daemon_e2e stays the
// real-broker smoke test.
#include <doctest/doctest.h>

#include <algorithm>

#include "daemon/store/sqlite.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/lookups.hpp"

using test::FakeSite;

namespace {

// A Tasmota on the fake broker: it answers each POWER1 command on stat/<topic>/POWER1, as the
// firmware does (docs/protocols.md §1), or misbehaves as the matrix's simulator relay did.
struct Tasmota {
  enum class Mode { normal, mute, stuck };
  FakeSite& site;
  std::string topic;
  Mode mode = Mode::normal;
  bool on = false;
  std::size_t seen = 0;

  void answer() {
    for (; seen < site.broker.published.size(); ++seen) {
      const auto m = site.broker.published[seen];  // a copy: message() may grow the list
      if (m.topic != "cmnd/" + topic + "/POWER1" || mode == Mode::mute) continue;
      if (mode == Mode::normal) on = m.payload == "ON";  // stuck: keeps its state, says so
      site.broker.message("stat/" + topic + "/POWER1", on ? "ON" : "OFF");
    }
  }
};

// One cycle at a time, the relay answering after each, every cycle checked for its ping.
void run(FakeSite& s, Tasmota& t, int cycles) {
  for (int i = 0; i < cycles; ++i) {
    const int pings = s.pings();
    s.cycles(1);
    t.answer();
    REQUIRE(s.pings() == pings + 1);  // cadence: no cycle skipped its decision and ping
  }
}

// Runs until `done`, at most `cycles`; false when it never came.
template <typename Done>
bool run_until(FakeSite& s, Tasmota& t, int cycles, Done done) {
  for (int i = 0; i < cycles; ++i) {
    if (done()) return true;
    run(s, t, 1);
  }
  return done();
}

long count(const std::vector<std::string>& v, const std::string& x) { return std::count(v.begin(), v.end(), x); }

using test::any_contains;

// The events stored in the site's real database whose detail starts with `prefix`.
std::int64_t stored_events(const FakeSite& s, const std::string& prefix) {
  shackd::db::Db db((s.dir / "shackd.db").string());
  return db.scalar_int("SELECT count(*) FROM events WHERE detail LIKE '" + prefix + "%'");
}

// The site up, the primary miner ON and confirmed by its relay.
void primary_on(FakeSite& s, Tasmota& t) {
  REQUIRE_FALSE(s.daemon->start());
  t.answer();
  run(s, t, 3);
  REQUIRE(s.daemon->loop().decision().miners.at(0).on);
  REQUIRE(t.on);
  REQUIRE(s.broker.last("shack/load/primary_s21/observed") == "ON");
}

const std::string kCommand = "cmnd/primary_s21/POWER1";

}  // namespace

TEST_CASE("fault row: a relay that never confirms raises relay_unconfirmed, is retried, and obeys once it answers") {
  FakeSite s;
  Tasmota relay{s, "primary_s21"};
  primary_on(s, relay);
  relay.mode = Tasmota::Mode::mute;
  const std::size_t from = s.broker.published.size();
  s.set_battery(43.0);  // under the shutdown voltage
  run(s, relay, 1);
  CHECK(s.broker.payloads(kCommand, from) == std::vector<std::string>{"OFF"});
  // The confirm timeout is 10 s, the first retry 5 s after it (relay_timing's defaults).
  CHECK(run_until(s, relay, 12, [&] { return any_contains(s.broker.payloads("shack/event", from), "relay_unconfirmed"); }));
  CHECK(run_until(s, relay, 8, [&] { return count(s.broker.payloads(kCommand, from), "OFF") >= 2; }));
  CHECK_FALSE(s.daemon->loop().decision().miners.at(0).on);  // safe: the decision stays OFF
  CHECK(count(s.broker.payloads(kCommand, from), "ON") == 0);
  relay.mode = Tasmota::Mode::normal;  // it answers again: the next retry switches it
  CHECK(run_until(s, relay, 30, [&] { return s.broker.last("shack/load/primary_s21/observed") == "OFF"; }));
  CHECK_FALSE(relay.on);
  run(s, relay, 2);  // the events' flush
  CHECK(stored_events(s, "relay_unconfirmed") >= 1);  // persisted
}

TEST_CASE("fault row: a relay that reports the wrong state keeps the decision, is published as it is, and is retried") {
  FakeSite s;
  Tasmota relay{s, "primary_s21"};
  primary_on(s, relay);
  relay.mode = Tasmota::Mode::stuck;  // says ON whatever it is told
  const std::size_t from = s.broker.published.size();
  s.set_battery(43.0);
  run(s, relay, 1);
  CHECK(run_until(s, relay, 12, [&] {
    const auto events = s.broker.payloads("shack/event", from);
    return any_contains(events, "relay_unconfirmed") || any_contains(events, "relay_mismatch");
  }));
  CHECK_FALSE(s.daemon->loop().decision().miners.at(0).on);                        // safe: the decision stays OFF
  CHECK(s.broker.last("shack/load/primary_s21/observed") == "ON");          // what the relay really says
  CHECK(run_until(s, relay, 10, [&] { return count(s.broker.payloads(kCommand, from), "OFF") >= 2; }));
  // Retried with backoff, not commanded every cycle (manager_test covers the bound exactly).
  run(s, relay, 20);
  const long offs = count(s.broker.payloads(kCommand, from), "OFF");
  CHECK(offs < 15);
  MESSAGE(offs << " OFF commands in the " << 12 + 10 + 20 << " cycles a stuck relay was retried");
  relay.mode = Tasmota::Mode::normal;
  CHECK(run_until(s, relay, 130, [&] { return s.broker.last("shack/load/primary_s21/observed") == "OFF"; }));
  s.set_battery(54.0);  // and it follows the next decision as before
  CHECK(run_until(s, relay, 10, [&] { return s.broker.last("shack/load/primary_s21/observed") == "ON"; }));
  run(s, relay, 2);
  CHECK(stored_events(s, "relay_") >= 1);
}

TEST_CASE("fault row: a SIGHUP storm reloads at most once a cycle and switches no relay") {
  FakeSite s;
  Tasmota relay{s, "primary_s21"};
  primary_on(s, relay);
  run(s, relay, 3);
  const std::size_t from = s.broker.published.size();
  const int made = s.broker.links_made;
  std::string with_keepalive = test::kFakeSiteConfig;
  with_keepalive.replace(with_keepalive.find("  prefix: shack\n"), 16, "  prefix: shack\n  keepalive_s: 45\n");
  for (int i = 0; i < 20; ++i) {
    // Every other signal follows an edit of the MQTT section: the link and the relays are built
    // anew and taken, as in a real storm while the owner edits the file.
    if (i % 2 == 0) s.write_config(i % 4 == 0 ? with_keepalive : test::kFakeSiteConfig);
    for (int k = 0; k < 10; ++k) shackd::signals::reload = true;  // ten signals before the cycle
    run(s, relay, 1);
  }
  CHECK(s.broker.links_made - made == 10);  // one new link per edit, none for an unchanged file
  // A reload is not a switch: the primary is never sent OFF, the other loads never ON (a new
  // manager re-asserts the present state after its connect, which is the same state again).
  CHECK(count(s.broker.payloads(kCommand, from), "OFF") == 0);
  for (const auto& t : {"cmnd/heat_room_fan/POWER1", "cmnd/main_room_fan/POWER1"}) {
    CHECK(count(s.broker.payloads(t, from), "ON") == 0);
  }
  CHECK(s.daemon->loop().decision().miners.at(0).on);
  CHECK(relay.on);
  CHECK_FALSE(shackd::signals::reload);  // every signal was taken
}

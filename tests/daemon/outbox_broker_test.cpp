// The events outbox against a real mosquitto (issue 49): events made while shackd's broker is away
// wait in order and, once it is back, all reach a QoS 1 consumer, in order, with no hole in `seq`.
// The red team lost 20 of 152, 295 of 402, 575 and 752 of 1002 that way, with nothing counted.
// The daemon runs in process on the stepped clock (tests/support/fake_site.hpp) with the real MQTT link to a
// mosquitto on a free loopback port (tests/support/broker.hpp); a second client consumes.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "drivers/mqtt/client.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/fake_site.hpp"

using namespace std::chrono_literals;

namespace {

struct Consumer {
  drivers::mqtt::Client client;
  std::vector<std::uint64_t> seqs;  // as they arrived, repeats included
  std::map<std::uint64_t, int> seen;
  int probes = 0;
  std::string last_loop;

  explicit Consumer(const std::string& uri)
      : client([&] {
          drivers::mqtt::ClientConfig c;
          c.uri = uri;
          c.client_id = "outbox-consumer";
          c.status_topic = "";
          return c;
        }()) {
    client.subscribe("shack/event");
    client.subscribe("consumer/probe");
    client.subscribe("shack/loop");
    client.start();
  }
  void take(std::chrono::milliseconds wait) {
    while (const auto e = client.poll(wait)) {
      wait = 0ms;
      if (e->kind != drivers::mqtt::Event::Kind::message) continue;
      if (e->topic == "shack/loop") {
        last_loop = e->payload;
        continue;
      }
      if (e->topic == "consumer/probe") {
        ++probes;
        continue;
      }
      const auto j = nlohmann::json::parse(e->payload);
      const auto seq = j["seq"].get<std::uint64_t>();
      seqs.push_back(seq);
      ++seen[seq];
    }
  }
  // Subscribed and hearing: its own probe comes back (bounded).
  bool ready() {
    const auto until = std::chrono::steady_clock::now() + 15s;
    const int before = probes;
    while (std::chrono::steady_clock::now() < until) {
      if (client.connected()) client.publish("consumer/probe", "x", 1, false);
      take(200ms);
      if (probes > before) return true;
    }
    return false;
  }
};

constexpr std::uint64_t kOutage = shackd::EventOutbox::kLimit;  // 1,000

// Cycles with the GX silent, then answering, in turn: an alarm and its end, until the daemon has
// recorded at least `n` - 1 more events (pairs: it ends answering, so nothing more follows).
void make_events(test::FakeSite& s, std::uint64_t n) {
  const auto target = s.daemon->loop().stats().events + n;
  for (int i = 0; i < 20000 && s.daemon->loop().stats().events + 1 < target; ++i) {
    s.gx->answering = false;
    s.cycles(1);
    s.gx->answering = true;
    s.cycles(1);
  }
}

// Cycles until the consumer has every event made so far and the outbox is empty, bounded. The
// consumer can hear the last event before its PUBACK reaches the outbox (slowly under TSan): an
// event still waiting there at the kill would count in the outage's drops.
bool drained(test::FakeSite& s, Consumer& consumer) {
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    consumer.take(20ms);
    if (!consumer.seen.empty() && consumer.seen.rbegin()->first >= s.daemon->loop().stats().events &&
        s.daemon->events().outbox().stats().waiting == 0) {
      return true;
    }
    s.cycles(1);
  }
  return false;
}

}  // namespace

TEST_CASE("outbox: 1,000 events made while the broker is away all reach a QoS 1 consumer in order once it is back") {
  test::Broker broker;
  test::FakeSite s("", {}, test::kFakeSiteConfig, /*events_thread=*/true);  // paced as in production
  s.broker_uri = broker.uri();
  REQUIRE_FALSE(s.daemon->start());
  Consumer consumer(broker.uri());
  REQUIRE(consumer.ready());
  s.cycles(3);
  REQUIRE(drained(s, consumer));

  const auto at_kill = s.daemon->loop().stats().events;  // the outage's events are those after it
  broker.kill_hard();
  // The loop sees the link go (its connection's end) within its keepalive at most; cycles on.
  for (int i = 0; i < 200 && s.status().find("MQTT DOWN") == std::string::npos; ++i) {
    s.cycles(1);
    consumer.take(50ms);
  }
  REQUIRE(s.status().find("MQTT DOWN") != std::string::npos);
  const auto first_seq = at_kill;
  // The outbox's limit, exactly, with the reconnection's own event (mqtt_available) the last.
  make_events(s, kOutage - 1 - (s.daemon->loop().stats().events - at_kill));
  const auto made = s.daemon->loop().stats().events;
  REQUIRE(made - first_seq >= kOutage - 2);
  REQUIRE(made - first_seq <= kOutage - 1);

  broker.start();  // the same port
  REQUIRE(consumer.ready());  // subscribed before shackd is back: every event has a listener
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until && (consumer.seen.empty() || consumer.seen.rbegin()->first < made)) {
    s.cycles(1);
    consumer.take(20ms);
  }
  consumer.take(500ms);
  REQUIRE_FALSE(consumer.seen.empty());
  // Every seq from the outage's first to the last made, none missing.
  std::uint64_t missing = 0;
  for (std::uint64_t q = first_seq + 1; q <= made; ++q) missing += consumer.seen.count(q) == 0;
  CHECK(missing == 0);
  // In order: a repeat (QoS 1 is at least once) may come again, never one out of turn.
  std::uint64_t highest = 0;
  int out_of_order = 0;
  for (const auto q : consumer.seqs) {
    if (q < highest && consumer.seen[q] == 1) ++out_of_order;
    highest = std::max(highest, q);
  }
  CHECK(out_of_order == 0);
  CHECK(s.daemon->loop().stats().events_unsent == 0);
  MESSAGE((made - first_seq) << " events made while the broker was away; " << consumer.seqs.size()
                           << " received in all, " << missing << " missing");
}

TEST_CASE("outbox: past its limit the oldest events go, counted on <prefix>/loop and status; the rest arrive in order") {
  test::Broker broker;
  test::FakeSite s("", {}, test::kFakeSiteConfig, /*events_thread=*/true);
  s.broker_uri = broker.uri();
  REQUIRE_FALSE(s.daemon->start());
  Consumer consumer(broker.uri());
  REQUIRE(consumer.ready());
  s.cycles(3);
  REQUIRE(drained(s, consumer));
  const auto at_kill = s.daemon->loop().stats().events;
  broker.kill_hard();
  for (int i = 0; i < 200 && s.status().find("MQTT DOWN") == std::string::npos; ++i) s.cycles(1);
  make_events(s, kOutage + 201 - (s.daemon->loop().stats().events - at_kill));  // make_events may stop one short
  const auto lost = s.daemon->loop().stats().events_unsent;
  CHECK(lost == s.daemon->loop().stats().events - at_kill - kOutage);
  CHECK(lost >= 200);
  CHECK(s.status().find(std::to_string(lost) + " event(s) not sent") != std::string::npos);
  broker.start();
  REQUIRE(consumer.ready());
  s.cycles(1);  // the reconnection: its own event pushes one more out
  const auto made = s.daemon->loop().stats().events;
  // Every event of the outage came but those counted as dropped (the oldest not yet sent when
  // the queue was full), and the newest all came. Waited for until so, at most 60 s: a message of
  // the window that the restart caught is sent again after later ones (QoS 1), so the newest
  // arriving first does not yet mean every one has (seen under ASan in a cold CI run: 1 missing
  // when the loop stopped at the newest).
  const auto count_missing = [&](std::uint64_t from) {
    std::uint64_t n = 0;
    for (std::uint64_t q = from; q <= made; ++q) n += consumer.seen.count(q) == 0;
    return n;
  };
  // The reconnection's own event pushes one more out of the full queue, in the cycle above or a
  // later one (under ASan the link came back a cycle later, and one of this range went, counted):
  // the newest but one of the full queue's newest must all come.
  const auto newest_from = made - kOutage + shackd::EventOutbox::kWindow + 2;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until &&
         (count_missing(newest_from) != 0 || count_missing(at_kill + 1) != s.daemon->loop().stats().events_unsent)) {
    s.cycles(1);
    consumer.take(20ms);
  }
  CHECK(count_missing(at_kill + 1) == s.daemon->loop().stats().events_unsent);
  CHECK(count_missing(newest_from) == 0);
  s.cycles(1);
  consumer.take(200ms);
  const auto loop = nlohmann::json::parse(consumer.last_loop);
  CHECK(loop["events_unsent"].get<std::uint64_t>() == s.daemon->loop().stats().events_unsent);
  CHECK(s.daemon->loop().stats().events_unsent >= 200);
}

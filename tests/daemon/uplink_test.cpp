// The uplink in process (daemon/vocab/uplink.hpp): the topics a bridge carries to the central
// broker, the ids that let a consumer drop what a QoS 1 bridge delivers twice, and the bridge's
// $SYS state as shackd reads it, hostile words included. The daemon's MQTT link is a FakeLink,
// its clock steps; the config and the database are real files.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "daemon/config/config.hpp"
#include "daemon/loop/daemon.hpp"
#include "daemon/vocab/uplink.hpp"
#include "tests/support/fake_site.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::FakeSite;

namespace {

std::string with_site(const std::string& site_lines, const std::string& extra = "") {
  std::string base = test::kFakeSiteConfig;
  const std::string from = "site:\n  name: hostile\n";
  base.replace(base.find(from), from.size(), "site:\n  name: hostile\n" + site_lines);
  return base + extra;
}

int published_count(const FakeSite& s, const std::string& topic) {
  int n = 0;
  for (const auto& m : s.broker.published) n += m.topic == topic;
  return n;
}

}  // namespace

TEST_CASE("uplink: events under the site's id, numbered in order, and a state at its own pace") {
  FakeSite s("", {}, with_site("  id: north-ridge\n", "uplink:\n  state_interval_s: 30\n"));
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  CHECK(s.broker.subscriptions.count("$SYS/broker/connection/+/state"));
  const std::string state_topic = "shack/site/north-ridge/state";
  // Once at the start (the full publish), then every 30 s: not each cycle.
  CHECK(published_count(s, state_topic) == 1);
  s.cycles(20);
  CHECK(published_count(s, state_topic) == 1);
  s.cycles(10);
  CHECK(published_count(s, state_topic) == 2);
  for (const auto& m : s.broker.published) {
    if (m.topic == state_topic) CHECK((m.retain && m.qos == 1));
  }
  const json st = json::parse(s.broker.last(state_topic));
  CHECK(st["site"] == "north-ridge");
  CHECK(st["name"] == "hostile");
  CHECK(st["state"]["battery_v"] == 54.0);
  CHECK(st["loads"]["primary_s21"]["on"] == true);
  CHECK(st["loads"]["primary_s21"]["reason"].is_string());
  CHECK(st["alarms"].is_array());

  const std::size_t from = s.broker.published.size();
  for (const char* mode : {"off", "on", "auto", "maybe"}) {  // the last one refused: an event too
    s.broker.message("shack/load/primary_s21/mode/set", mode);
    s.cycles(1);
  }
  std::vector<json> local, uplink;
  for (std::size_t i = from; i < s.broker.published.size(); ++i) {
    const auto& m = s.broker.published[i];
    if (m.topic == "shack/event") local.push_back(json::parse(m.payload));
    if (m.topic == "shack/site/north-ridge/event") {
      CHECK((m.qos == 1 && !m.retain));  // queued by the bridge while the link is down, never stale
      uplink.push_back(json::parse(m.payload));
    }
  }
  REQUIRE(local.size() >= 4);
  CHECK(local == uplink);  // the same events, the same ids, in the same order
  std::set<std::string> ids;
  for (std::size_t i = 0; i < local.size(); ++i) {
    const auto& e = local[i];
    CHECK(e["site"] == "north-ridge");
    CHECK(e["run"].is_number_integer());
    ids.insert(e["id"].get<std::string>());
    CHECK(e["id"] == fmt::format("north-ridge:{}:{}", e["run"].get<std::int64_t>(), e["seq"].get<std::uint64_t>()));
    if (i > 0) CHECK(e["seq"].get<std::uint64_t>() == local[i - 1]["seq"].get<std::uint64_t>() + 1);
  }
  CHECK(ids.size() == local.size());
}

TEST_CASE("uplink: events made without a broker (the start's, an outage's) are sent once it is there, in order") {
  FakeSite s("", {}, with_site("", "uplink: {}\n"));
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  s.broker.set_up(false);
  s.set_battery(40.0);  // the shutdown band: alarms and actuations while nobody hears them
  s.cycles(5);
  s.broker.set_up(true);
  s.cycles(2);
  std::vector<std::uint64_t> seqs;
  for (const auto& p : s.broker.payloads("shack/site/hostile/event")) seqs.push_back(json::parse(p)["seq"].get<std::uint64_t>());
  // The start's config events (the profiles applied) are 1, 2, ...; nothing is missing after them.
  REQUIRE(seqs.size() >= 5);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  CHECK(s.broker.payloads("shack/event") == s.broker.payloads("shack/site/hostile/event"));
}

TEST_CASE("uplink: the bridge's $SYS state in health, as events, and hostile words about it") {
  FakeSite s("", {}, with_site("", "uplink: {}\n"));
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  const auto health = [&] { return json::parse(s.broker.last("shack/health")); };
  CHECK_FALSE(health().contains("uplink"));  // no bridge told of: none shown
  // The default site id is the one fixed in the database (from site.name): the topics use it.
  CHECK(published_count(s, "shack/site/hostile/state") == 1);

  s.broker.message("$SYS/broker/connection/shackd-hostile/state", "1", true);  // retained, as mosquitto keeps it
  s.cycles(1);
  REQUIRE(health().contains("uplink"));
  CHECK(health()["uplink"]["shackd-hostile"]["connected"] == true);
  CHECK(health()["uplink"]["shackd-hostile"]["changes"] == 0);

  const std::size_t from = s.broker.published.size();
  s.broker.message("$SYS/broker/connection/shackd-hostile/state", "0");
  s.cycles(1);
  CHECK(health()["uplink"]["shackd-hostile"]["connected"] == false);
  CHECK(health()["uplink"]["shackd-hostile"]["changes"] == 1);
  auto ev = s.broker.payloads("shack/event", from);
  REQUIRE(ev.size() == 1);
  CHECK(json::parse(ev[0])["kind"] == "alarm");
  CHECK(json::parse(ev[0])["detail"] == "uplink_down: bridge shackd-hostile lost its connection");
  // The same word again (a resubscribe): no news.
  s.broker.message("$SYS/broker/connection/shackd-hostile/state", "0", true);
  s.cycles(1);
  CHECK(s.broker.payloads("shack/event", from).size() == 1);
  s.broker.message("$SYS/broker/connection/shackd-hostile/state", "1");
  s.cycles(1);
  ev = s.broker.payloads("shack/event", from);
  REQUIRE(ev.size() == 2);
  CHECK(json::parse(ev[1])["kind"] == "alarm_end");
  CHECK(health()["uplink"]["shackd-hostile"]["changes"] == 2);

  // Words that are not a state, a name that is not UTF-8, other bridges' names (any client may
  // publish, even retain, on $SYS where the broker has no ACL: they filled the list, issue 48),
  // levels that are not the state topic: none stops a cycle, none is kept as a state.
  const int pings = s.pings();
  s.broker.message("$SYS/broker/connection/shackd-hostile/state", "2");
  s.broker.message("$SYS/broker/connection/shackd-hostile/state", std::string(100000, '1'));
  s.broker.message("$SYS/broker/connection/\xff\xfe/state", "1");
  s.broker.message("$SYS/broker/connection/a/b/state", "1");
  s.broker.message("$SYS/broker/connection//state", "1");
  for (int i = 0; i < 40; ++i) s.broker.message(fmt::format("$SYS/broker/connection/x{}/state", i), "0");
  s.cycles(2);
  CHECK(s.pings() == pings + 2);
  CHECK(health()["uplink"]["shackd-hostile"]["connected"] == true);
  CHECK(health()["uplink"].size() == 1);  // this site's bridge alone
  // Another name, where the owner's bridge has one: uplink.bridge.
  FakeSite named("", {}, with_site("", "uplink:\n  bridge: to-centre\n"));
  REQUIRE_FALSE(named.daemon->start());
  named.broker.message("$SYS/broker/connection/shackd-hostile/state", "1", true);
  named.broker.message("$SYS/broker/connection/to-centre/state", "0", true);
  named.cycles(1);
  const json h = json::parse(named.broker.last("shack/health"));
  REQUIRE(h.contains("uplink"));
  CHECK(h["uplink"].size() == 1);
  CHECK(h["uplink"]["to-centre"]["connected"] == false);
}

TEST_CASE("uplink: off without its section; its settings checked") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  CHECK_FALSE(s.broker.subscriptions.count("$SYS/broker/connection/+/state"));
  for (const auto& m : s.broker.published) CHECK(m.topic.rfind("shack/site/", 0) != 0);
  s.broker.message("shack/load/primary_s21/mode/set", "off");
  s.cycles(1);
  // The events carry their ids all the same: a consumer of the local broker may de-duplicate too.
  const json ev = json::parse(s.broker.last("shack/event"));
  CHECK(ev["site"] == "hostile");
  CHECK(ev["seq"].get<std::uint64_t>() >= 1);

  const auto errors = [](const std::string& extra, const std::string& tail = "") {
    std::string text = with_site(extra, tail);
    text.replace(text.find("{DB}"), 4, "/tmp/x.db");
    return shackd::parse_config(text, "x.yaml").errors;
  };
  CHECK(errors("").empty());
  CHECK(errors("  id: north_ridge-2\n").empty());
  for (const char* bad : {"  id: North Ridge\n", "  id: a/b\n", "  id: \"+\"\n", "  id: \"\"\n"}) {
    const auto why = errors(bad);
    REQUIRE(why.size() == 1);
    CHECK(why[0].find("site.id") != std::string::npos);
  }
  auto e = errors("", "uplink:\n  state_interval_s: 1\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].find("uplink.state_interval_s") != std::string::npos);
  e = errors("", "uplink:\n  state_interval: 60\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].find("state_interval_s") != std::string::npos);  // the nearest name, suggested
}

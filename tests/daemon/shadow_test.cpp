// Shadow mode's comparison (issue 60, daemon/shadow/shadow_watch.hpp) on values, and its spells in
// a real migrated SQLite database (schema 0016): spells open and close, their reasons carried,
// one row a spell and never one a cycle.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/shadow/shadow_watch.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/shadow_rows.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/fake_site.hpp"

using namespace shackd;

namespace {

ShadowLoad load(const std::string& id, bool would, std::optional<bool> actual, int code = 41,
                std::string reason = "below start voltage") {
  return ShadowLoad{.id = id, .name = "Load " + id, .would_on = would, .reason_code = code, .reason = std::move(reason),
                    .actual_on = actual};
}

ShadowNews cycle(ShadowWatch& w, std::int64_t ms, std::vector<ShadowLoad> loads) {
  return w.after_cycle(ShadowInputs{.wall_ms = ms, .loads = std::move(loads)});
}

}  // namespace

TEST_CASE("shadow: a spell opens at the first cycle that disagrees and closes at the first that agrees") {
  ShadowWatch w;
  // Agreeing: no spell, one document (agree), nothing to record.
  auto n = cycle(w, 1000, {load("p", false, false)});
  CHECK(n.rows.empty());
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].payload.find(R"("agree":true)") != std::string::npos);
  // The other controller switches it ON one cycle later: a spell, written once, open.
  n = cycle(w, 1250, {load("p", false, true)});
  REQUIRE(n.rows.size() == 1);
  CHECK(n.rows[0].load_id == "p");
  CHECK(n.rows[0].start_ms == 1250);
  CHECK_FALSE(n.rows[0].end_ms.has_value());
  CHECK_FALSE(n.rows[0].would_on);
  CHECK(n.rows[0].actual_on);
  CHECK(n.rows[0].reason_code == 41);
  CHECK(n.rows[0].reason == "below start voltage");
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].payload ==
        R"({"agree":false,"would":"OFF","actual":"ON","reason":{"code":41,"text":"below start voltage"},"since":1,"switches":"nothing"})");
  REQUIRE(n.lines.size() == 1);
  CHECK(n.lines[0].find("would be OFF, the site has it ON") != std::string::npos);
  // Cycles that go on disagreeing, for the same reason, its numbers moving: counted, not written.
  for (std::int64_t ms = 1500; ms <= 3000; ms += 250) {
    n = cycle(w, ms, {load("p", false, true, 41, "below start voltage: " + std::to_string(ms))});
    CHECK(n.empty());
  }
  CHECK(w.open().at("p").cycles == 8);
  // shackd would start it now: they agree; the spell closes at this cycle, with its count.
  n = cycle(w, 3250, {load("p", true, true, 1, "running")});
  REQUIRE(n.rows.size() == 1);
  CHECK(n.rows[0].start_ms == 1250);
  CHECK(n.rows[0].end_ms == 3250);
  CHECK(n.rows[0].cycles == 8);
  CHECK(n.rows[0].reason_code == 41);  // the reason it had, not the one that ended it
  CHECK(w.open().empty());
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].payload.find(R"("agree":true,"would":"ON","actual":"ON")") != std::string::npos);
  CHECK(n.topics[0].payload.find(R"("since":3,)") != std::string::npos);
}

TEST_CASE("shadow: another reason splits a spell; an unknown relay ends it; the stop closes what is open") {
  ShadowWatch w;
  cycle(w, 0, {load("p", false, true, 41), load("f", true, false, 4, "too hot")});
  CHECK(w.open().size() == 2);
  // The primary's reason changes (a stop voltage now): the spell ends, another begins at once.
  auto n = cycle(w, 250, {load("p", false, true, 42, "below stop voltage"), load("f", true, false, 4, "too hot")});
  REQUIRE(n.rows.size() == 2);
  CHECK(n.rows[0].end_ms == 250);
  CHECK(n.rows[0].reason_code == 41);
  CHECK(n.rows[1].start_ms == 250);
  CHECK_FALSE(n.rows[1].end_ms.has_value());
  CHECK(n.rows[1].reason_code == 42);
  // The fan's relay stops being known (a reload's new manager): its spell ends, nothing opens.
  n = cycle(w, 500, {load("p", false, true, 42, "below stop voltage"), load("f", true, std::nullopt, 4, "too hot")});
  REQUIRE(n.rows.size() == 1);
  CHECK(n.rows[0].load_id == "f");
  CHECK(n.rows[0].end_ms == 500);
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].payload.find(R"("agree":null,"would":"ON","actual":null)") != std::string::npos);
  // shackd stops: the primary's spell ends with it.
  n = w.close_all(900);
  REQUIRE(n.rows.size() == 1);
  CHECK(n.rows[0].load_id == "p");
  CHECK(n.rows[0].start_ms == 250);
  CHECK(n.rows[0].end_ms == 900);
  CHECK(n.rows[0].cycles == 2);
  CHECK(w.open().empty());
}

TEST_CASE("shadow: a load gone with a reload ends its spell and clears its document; republish sends each again") {
  ShadowWatch w;
  cycle(w, 0, {load("p", false, true), load("d", true, true, 1, "running")});
  auto n = cycle(w, 250, {load("d", true, true, 1, "running")});
  REQUIRE(n.rows.size() == 1);
  CHECK(n.rows[0].load_id == "p");
  CHECK(n.rows[0].end_ms == 250);
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].load_id == "p");
  CHECK(n.topics[0].payload.empty());
  CHECK(cycle(w, 500, {load("d", true, true, 1, "running")}).topics.empty());
  w.republish();
  n = cycle(w, 750, {load("d", true, true, 1, "running")});
  REQUIRE(n.topics.size() == 1);
  CHECK(n.topics[0].payload.find(R"("since":0,)") != std::string::npos);  // the agreement's own start
}

TEST_CASE("shadow: spells in the database: opened, then closed in place; retention drops the old ones") {
  db::Db db(":memory:", {.create = true});
  migrate(db, embedded_migrations());
  ShadowRow r{.load_id = "primary_s21", .start_ms = 1'700'000'000'000, .end_ms = std::nullopt, .would_on = false,
              .actual_on = true, .reason_code = 41, .reason = "below start voltage: 52.20 V < 53.20 V", .cycles = 1, .candidate = false, .candidate_sets = {}};
  save_shadow_row(db, r);
  auto rows = load_shadow_rows(db);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == r);
  r.end_ms = r.start_ms + 12'000;
  r.cycles = 48;
  save_shadow_row(db, r);
  rows = load_shadow_rows(db);
  REQUIRE(rows.size() == 1);  // the same spell, closed: no second row
  CHECK(rows[0] == r);
  // The schema refuses what no spell can be.
  ShadowRow bad = r;
  bad.load_id = "x";
  bad.end_ms = bad.start_ms - 1;
  CHECK_THROWS_AS(save_shadow_row(db, bad), db::Error);
  prune_shadow_rows(db, r.start_ms);  // ended after: kept
  CHECK(load_shadow_rows(db).size() == 1);
  prune_shadow_rows(db, *r.end_ms + 1);
  CHECK(load_shadow_rows(db).empty());
}

namespace {

std::string shadow_config(bool shadow) {
  std::string c = test::kFakeSiteConfig;
  const std::string loop = "  interval_ms: 1000\n";
  c.replace(c.find(loop), loop.size(), loop + (shadow ? "  shadow: true\n" : "  shadow: false\n"));
  return c;
}

// Everything the daemon published that is not its own topic or Home Assistant's: a relay's
// command, a question to it, a power-on setting (every protocol of the site: Tasmota's cmnd/,
// a Shelly Gen1's .../command, a Gen2's /rpc, ESPHome's /command).
std::vector<std::string> to_relays(const test::FakeBroker& b) {
  std::vector<std::string> out;
  for (const auto& m : b.published) {
    if (m.topic.rfind("shack/", 0) == 0 || m.topic.rfind("homeassistant/", 0) == 0) continue;
    out.push_back(m.topic + " " + m.payload);
  }
  return out;
}

}  // namespace

// The whole daemon in process, its relays on every protocol the site has: in shadow mode nothing
// goes to a relay, at the connect, while it decides, when a relay disagrees, at a reload, or at
// the stop; its document says the disagreement; a reload that turns shadow mode off is refused.
TEST_CASE("shadow in process: nothing to any relay, the disagreement published, a reload never changes the mode") {
  test::FakeSite s("", {}, shadow_config(true));
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  CHECK(s.daemon->loop().decision().miners.at(0).on);  // 54 V: shackd would run the primary
  CHECK(s.status().find("SHADOW: switches nothing") != std::string::npos);
  CHECK(s.broker.last("shack/shadow") == R"({"shadow":true,"switches":"nothing"})");
  // The other controller keeps it OFF; the relay says so.
  s.broker.message("stat/primary_s21/POWER1", "OFF");
  s.cycles(2);
  const std::string doc = s.broker.last("shack/shadow/primary_s21");
  CHECK(doc.find(R"("agree":false,"would":"ON","actual":"OFF")") != std::string::npos);
  // A sag under the shutdown voltage: shackd would switch everything OFF; it commands nothing.
  s.set_battery(43.0);
  s.cycles(2);
  CHECK_FALSE(s.daemon->loop().decision().miners.at(0).on);
  CHECK(s.broker.last("shack/shadow/primary_s21").find(R"("agree":true,"would":"OFF","actual":"OFF")") != std::string::npos);
  // A reload that would hand shackd the relays mid-run is refused; the mode stays.
  s.set_battery(54.0);
  s.write_config(shadow_config(false));
  shackd::signals::reload = true;
  s.cycles(3);
  CHECK(s.status().find("SHADOW: switches nothing") != std::string::npos);
  bool refused = false;
  for (const auto& e : s.broker.payloads("shack/event")) {
    refused = refused || (e.find("reload refused") != std::string::npos && e.find("loop.shadow") != std::string::npos);
  }
  CHECK(refused);
  s.broker.set_up(false);
  s.broker.set_up(true);  // a reconnect: a commanding daemon re-asserts every relay here
  s.cycles(2);
  for (const auto& e : s.broker.payloads("shack/event")) CHECK(e.find("relay_unconfirmed") == std::string::npos);
  s.daemon.reset();
  const auto sent = to_relays(s.broker);
  CHECK_MESSAGE(sent.empty(), "sent to a relay: " << (sent.empty() ? std::string() : sent.front()));
  CHECK(s.broker.published.size() > 20);  // it published its own topics all along
}

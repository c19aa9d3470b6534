// A candidate profile beside the one in force (issue 60, part 2), the whole daemon in process: the
// candidate is decided and published, never actuated; a reload that gives it changes the site no
// longer takes ends it, said as a warning, its spell closed in the database and its documents
// cleared; a reload without it ends it likewise.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/shadow/candidate.hpp"
#include "daemon/store/shadow_rows.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/fake_site.hpp"

namespace {

std::string with_candidate(const std::string& sets) {
  std::string c = test::kFakeSiteConfig;
  const std::string loop = "  interval_ms: 1000\n";
  c.replace(c.find(loop), loop.size(), loop + (sets.empty() ? std::string() : "  candidate: [" + sets + "]\n"));
  return c;
}

int commands_to(const test::FakeBroker& b, const std::string& topic, const std::string& payload) {
  int n = 0;
  for (const auto& p : b.payloads(topic)) n += p == payload;
  return n;
}

// The last payload on the Home Assistant config topic ending in `suffix` ("" when none was sent).
std::string ha_config(const test::FakeBroker& b, const std::string& suffix) {
  std::string last;
  bool seen = false;
  for (const auto& m : b.published) {
    if (m.topic.rfind("homeassistant/", 0) == 0 && m.topic.size() >= suffix.size() &&
        m.topic.compare(m.topic.size() - suffix.size(), suffix.size(), suffix) == 0) {
      last = m.payload;
      seen = true;
    }
  }
  return seen ? last : "(never sent)";
}

std::vector<shackd::ShadowRow> spells(const test::FakeSite& s) {
  shackd::db::Db db((s.dir / "shackd.db").string(), {.read_only = true});
  return shackd::load_shadow_rows(db, 0, 100, true);
}

}  // namespace

TEST_CASE("candidate in process: decided beside the profiles in force, never actuated; a reload ends it") {
  test::FakeSite s("", {}, with_candidate(R"("miners.Primary S21+.start_voltage=55.0")"));
  REQUIRE_FALSE(s.daemon->start());
  s.set_battery(54.0);  // over the start in force (50.0 V), under the candidate's (55.0 V)
  s.cycles(4);
  CHECK(s.daemon->loop().decision().miners.at(0).on);
  CHECK(s.broker.last("shack/candidate") == R"({"candidate":true,"set":"miners.Primary S21+.start_voltage=55.0"})");
  CHECK(ha_config(s.broker, "/candidate_mode/config").find(R"("state_topic":"shack/candidate")") != std::string::npos);
  CHECK(ha_config(s.broker, "/primary_s21_candidate/config").find("Primary S21+ candidate differs") != std::string::npos);
  const std::string doc = s.broker.last("shack/candidate/primary_s21");
  CHECK(doc.find(R"("agree":false,"candidate":"OFF","in_force":"ON","reason":{"code":41)") != std::string::npos);
  // The relay hears the profiles in force: ON (after the start's OFF), and never an OFF from the
  // candidate, here or later.
  CHECK(commands_to(s.broker, "cmnd/primary_s21/POWER1", "ON") >= 1);
  const int offs = commands_to(s.broker, "cmnd/primary_s21/POWER1", "OFF");
  auto rows = spells(s);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].load_id == "primary_s21");
  CHECK_FALSE(rows[0].end_ms.has_value());
  CHECK_FALSE(rows[0].would_on);
  CHECK(rows[0].actual_on);
  CHECK(rows[0].candidate_sets == "miners.Primary S21+.start_voltage=55.0");

  // A reload whose candidate names a miner the site does not have: the candidate ends, said as a
  // warning; its spell is closed and its documents cleared. The profiles in force go on.
  s.write_config(with_candidate(R"("miners.Nobody.start_voltage=51.0")"));
  shackd::signals::reload = true;
  s.cycles(4);
  CHECK(s.daemon->loop().decision().miners.at(0).on);
  CHECK(s.broker.last("shack/candidate").empty());
  CHECK(s.broker.last("shack/candidate/primary_s21").empty());
  rows = spells(s);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].end_ms.has_value());

  // The first candidate again, then a reload without one: it starts from the state in force now, in
  // which the primary runs (a higher start voltage does not stop a running miner: they agree), then
  // ends the same way.
  s.write_config(with_candidate(R"("miners.Primary S21+.start_voltage=55.0")"));
  shackd::signals::reload = true;
  s.cycles(4);
  CHECK_FALSE(s.broker.last("shack/candidate").empty());
  CHECK(s.broker.last("shack/candidate/primary_s21").find(R"("agree":true,"candidate":"ON","in_force":"ON")") != std::string::npos);
  // A reload that changes the loads (the dump's profile removed) with the same candidate: the
  // rules' state is laid out anew; the candidate goes on from the state in force, and no side job
  // fails.
  std::string no_dump = with_candidate(R"("miners.Primary S21+.start_voltage=55.0")");
  const std::string dump = "    - name: \"Dump Load S19 #1\"\n      enabled: false\n";
  REQUIRE(no_dump.find(dump) != std::string::npos);
  no_dump.replace(no_dump.find(dump), dump.size(), "");
  s.write_config(no_dump);
  shackd::signals::reload = true;
  s.cycles(4);
  CHECK(s.daemon->loop().profiles().rules.miners.size() == 1);
  CHECK(s.daemon->loop().stats().failures() == 0);
  CHECK(s.broker.last("shack/candidate/dump_s19_1").empty());  // a load gone: its document cleared
  std::string none = with_candidate("");
  none.replace(none.find(dump), dump.size(), "");  // the dump stays removed (a new one would need its keys)
  s.write_config(none);
  shackd::signals::reload = true;
  s.cycles(4);
  CHECK(s.broker.last("shack/candidate").empty());
  CHECK(s.broker.last("shack/candidate/primary_s21").empty());
  // Its Home Assistant entities removed (and not announced again with everything after the reload).
  CHECK(ha_config(s.broker, "/candidate_mode/config").empty());
  CHECK(ha_config(s.broker, "/primary_s21_candidate/config").empty());
  rows = spells(s);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].end_ms.has_value());
  CHECK(commands_to(s.broker, "cmnd/primary_s21/POWER1", "OFF") == offs);
}

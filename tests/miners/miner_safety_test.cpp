// A miner's safety stops, in process (tests/miners/miner_site.hpp): at its own hot limit or the
// owner's, and every safety stop cutting its relay on the cycle after the sleep, however slowly the
// miner winds down (issue 48).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/miners/miner_site.hpp"

using test::MinerSite;

TEST_CASE("a miner at its own hot limit is put to sleep, its relay cut, an alarm raised, and restarted once cool") {
  MinerSite s("luxos");
  s.site->set_battery(54.0);
  s.run(400);
  REQUIRE(s.relay_on);
  const auto before = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/miner"));
  CHECK(before["temp_limit_c"] == 90);  // LuxOS tempctrl's Hot
  CHECK(before["max_temp_c"].get<double>() < 90);
  // A blocked intake: its chips pass 90 °C. The next read (10 s polls) stops it as a safety
  // stop: asleep first, the relay one cycle later.
  s.miner.extra_c = 20;
  s.run(15);
  CHECK_FALSE(s.relay_on);
  CHECK(s.miner.sleeps == 1);
  REQUIRE(s.story.size() >= 2);
  CHECK(s.story[s.story.size() - 2] == "sleep");
  const auto reason = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/reason"));
  CHECK(reason["name"] == "overheat");
  MESSAGE(reason.dump());
  auto alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
  REQUIRE(alarms["alarms"].size() == 1);
  CHECK(alarms["alarms"][0]["id"] == "primary_s21.overheat");
  CHECK(alarms["alarms"][0]["text"].get<std::string>().find("its firmware's hot limit") != std::string::npos);
  // Cut, its API is silent: the alarm stays in force, and the miner off for the cooldown.
  s.miner.extra_c = 0;
  s.run(9 * 60);
  CHECK_FALSE(s.relay_on);
  alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
  CHECK(alarms["alarms"].size() == 1);
  // Past it, the ordinary start: relay on, woken (LuxOS kept its sleep), and once it reads cool
  // the alarm clears.
  s.run(8 * 60);
  CHECK(s.relay_on);
  CHECK(s.miner.wakes == 1);
  CHECK_FALSE(s.miner.asleep);
  alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
  CHECK(alarms["alarms"].empty());
}

TEST_CASE("a Whatsminer, whose firmware reports no limit, is held to the owner's overheat_c") {
  MinerSite s("whatsminer", ", overheat_c: 80");
  s.site->set_battery(54.0);
  s.run(400);
  REQUIRE(s.relay_on);
  s.miner.extra_c = 8;  // 83 °C and 85 °C on its two boards
  s.run(15);
  CHECK_FALSE(s.relay_on);
  CHECK(s.miner.sleeps == 1);
  const auto reason = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/reason"));
  CHECK(reason["name"] == "overheat");
  const auto alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
  REQUIRE(alarms["alarms"].size() == 1);
  CHECK(alarms["alarms"][0]["text"].get<std::string>().find("overheat_c") != std::string::npos);
}

namespace {

// The primary with its emergency stop at 46.0 V (between the site's critical low, 45.0 V, and its
// stop, 47.0 V), as the shipped dump-load profile has 50.0 V against 45.0 V: an emergency that is
// not also a critical low.
std::string with_emergency_at_46() {
  std::string base = test::kFakeSiteConfig;
  const std::string at = "      operating_mode: balanced\n";
  base.replace(base.find(at), at.size(), at + "      emergency_stop_voltage: 46.0\n");
  return base;
}

enum class Winds { slowly, never };

// A running LuxOS miner that winds down over 60 s, or never does (accepts sleep and goes on
// hashing), with a stop timeout of 90 s.
std::unique_ptr<MinerSite> running_miner(Winds winds) {
  auto s = std::make_unique<MinerSite>("luxos", "", with_emergency_at_46());
  if (winds == Winds::slowly) s->miner.wind_down_s = 60;
  else s->miner.ignores_sleep = true;
  s->site->set_battery(54.0);
  s->run(400);
  REQUIRE(s->relay_on);
  REQUIRE(s->miner.draw_w() > 3000);
  return s;
}

// Seconds (one cycle each) until the decision is OFF, then until the relay is cut; the reasons
// published on each of those cycles.
struct Cut {
  int decided = -1, cut = -1;
  std::vector<std::string> reasons;  // from the decision on, one a cycle
};
Cut until_cut(MinerSite& s, int limit) {
  Cut c;
  for (int t = 0; t < limit && c.cut < 0; ++t) {
    s.second();
    if (c.decided < 0 && !s.site->daemon->loop().decision().miners.at(0).on) c.decided = t;
    if (c.decided >= 0) c.reasons.push_back(nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/reason"))["name"]);
    if (!s.relay_on) c.cut = t;
  }
  return c;
}

}  // namespace

// Issue 48: below its emergency stop voltage a miner's relay stayed on until the miner reported
// idle (61.9 s with a 60 s wind-down), because only the first cycle carried emergency_stop. Every
// safety stop now cuts the relay on the cycle after the sleep, whatever the API says, and says so.
static void each_safety_stop(Winds winds) {
  {
    SUBCASE("emergency stop voltage") {
      auto s = running_miner(winds);
      s->site->set_battery(45.5);
      const Cut c = until_cut(*s, 120);
      REQUIRE(c.decided >= 0);
      CHECK(c.cut - c.decided == 1);
      CHECK(s->miner.sleeps == 1);
      // The reason stays a safety reason after the first cycle, and after the cut.
      s->run(3);
      CHECK(nlohmann::json::parse(s->site->broker.last("shack/load/primary_s21/reason"))["name"] == "emergency_stop");
      for (const auto& r : c.reasons) CHECK(r == "emergency_stop");
      CHECK(s->site->daemon->loop().decision().miners.at(0).safety_stop);
    }
    SUBCASE("shutdown, then the restart lockout on the next cycle") {
      auto s = running_miner(winds);
      s->site->set_battery(43.0);
      s->second();
      REQUIRE_FALSE(s->site->daemon->loop().decision().miners.at(0).on);
      REQUIRE(s->relay_on);  // the API's one cycle
      s->site->set_battery(46.5);  // above critical and the emergency stop, below restart: locked out
      s->second();
      CHECK_FALSE(s->relay_on);
      CHECK(nlohmann::json::parse(s->site->broker.last("shack/load/primary_s21/reason"))["name"] == "restart_lockout");
    }
    SUBCASE("critical low") {
      auto s = running_miner(winds);
      s->site->set_battery(44.8);
      const Cut c = until_cut(*s, 120);
      CHECK(c.cut - c.decided == 1);
      for (const auto& r : c.reasons) CHECK(r == "critical_low");
    }
    SUBCASE("stale inputs") {
      auto s = running_miner(winds);
      s->site->gx->answering = false;
      const Cut c = until_cut(*s, 120);
      REQUIRE(c.decided >= 0);
      CHECK(c.cut - c.decided == 1);
      for (const auto& r : c.reasons) CHECK(r == "stale_input");
    }
    SUBCASE("overheat") {
      auto s = running_miner(winds);
      s->miner.extra_c = 20;
      const Cut c = until_cut(*s, 120);
      REQUIRE(c.decided >= 0);
      CHECK(c.cut - c.decided == 1);
      for (const auto& r : c.reasons) CHECK(r == "overheat");
    }
    SUBCASE("an emergency that comes while an ordinary stop waits for the draw to fall") {
      auto s = running_miner(winds);
      s->site->set_battery(46.5);  // below its stop (47.0 V): sleep, the relay waits for idle
      s->run(10);
      REQUIRE(s->relay_on);
      REQUIRE(s->miner.sleeps == 1);
      s->site->set_battery(45.5);  // below its emergency stop: its sleep went out 10 s ago
      s->second();
      CHECK_FALSE(s->relay_on);
      CHECK(s->site->daemon->loop().decision().miners.at(0).safety_stop);
    }
  }
}

TEST_CASE("every safety stop of a miner with an API cuts its relay on the next cycle, however slowly it winds down") {
  SUBCASE("a miner that winds down over 60 s") { each_safety_stop(Winds::slowly); }
  SUBCASE("a miner that never winds down") { each_safety_stop(Winds::never); }
}


// Miners that follow the measured surplus with their power target, in process
// (tests/miners/miner_site.hpp): Braiins OS, LuxOS and Whatsminer v2 and v3; the config's target:
// block; a miner that ignores its target, or a model that cannot take one.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "daemon/cli/status.hpp"
#include "tests/miners/miner_site.hpp"

using test::MinerSite;

namespace {
// The primary as a miner that follows the surplus: it runs on a measured surplus of 800 W or more.
std::string surplus_site() {
  std::string text = test::kFakeSiteConfig;
  const std::string at = "      operating_mode: balanced\n";
  text.replace(text.find(at), at.size(), at + "      require_excess_solar: true\n      minimum_excess_w: 800\n");
  return text;
}
const char* kTarget = ", target: {min_w: 800, max_w: 3600, step_w: 200}";
}  // namespace

TEST_CASE("a Braiins OS miner follows the measured surplus with its power target") {
  MinerSite s("braiins", kTarget, surplus_site());
  s.house_w = 400;
  s.site->gx->values["system.pv_dc_w"] = 3000;
  s.site->gx->values["system.ac_consumption_l1_w"] = 400;
  s.site->gx->values["system.ac_consumption_l2_w"] = 0;  // a single-phase site
  s.site->gx->values["system.ac_consumption_l3_w"] = 0;
  s.run(400);
  REQUIRE(s.relay_on);
  // 3000 W of PV less a 400 W house: 2600 W, written once its API answered after the boot.
  CHECK(s.miner.target_w == 2600);
  CHECK(s.miner.target_writes == 1);
  CHECK(s.miner.draw_w() == doctest::Approx(2600).epsilon(0.02));
  // A cloud: 1800 W of PV. The bank pays; within a lower interval the target comes down to
  // what is there, and the miner keeps mining, its relay on.
  s.site->gx->values["system.pv_dc_w"] = 1800;
  s.run(90);
  CHECK(s.miner.target_w == 1400);
  CHECK(s.miner.target_writes == 2);
  CHECK(s.relay_on);
  CHECK(s.miner.sleeps == 0);
  const auto j = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/miner"));
  CHECK(j["target_w"] == 1400);
  CHECK(j["power_target_w"] == 1400);
  // `shackd status` says it so (the miner model's draw ramps; its chips at 75 °C).
  const std::string words = shackd::miner_status_words(s.site->broker.last("shack/load/primary_s21/miner"));
  CHECK(words.starts_with("mining, 14"));
  CHECK(words.find(" W (target 1400 W), ") != std::string::npos);
  CHECK(words.find(" °C (limit 90 °C), fan ") != std::string::npos);
  CHECK(words.ends_with(" rpm, Braiins OS 26.08.1-sim"));
  CHECK(shackd::miner_status_words("not json").empty());
  // Its energy is counted from what it says it draws once its API answers, not its rating
  // (3878 W): the boot before that at the rating, then 2600 W and 1400 W.
  const auto energy = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/energy"));
  CHECK(energy["basis"] == "metered and rated");
  const double average_w = energy["today_kwh"].get<double>() * 1000 / energy["on_h"].get<double>();
  MESSAGE("counted: ", energy.dump(), ", on average ", average_w, " W");
  CHECK(average_w < 3000);
  CHECK(average_w > 2000);
  // Less than its minimum: asleep first, then the relay.
  s.site->gx->values["system.pv_dc_w"] = 900;
  s.run(120);
  CHECK_FALSE(s.relay_on);
  CHECK(s.miner.sleeps == 1);
  CHECK(s.story.back() == "relay OFF at 15 W");
}

TEST_CASE("the config's target: on every kind, with a range, its firmware's limits, on a miner that runs on surplus") {
  const auto errors = [](const std::string& base, const std::string& miners) {
    std::string text = base;
    text.replace(text.find("{DB}"), 4, "/tmp/x.db");
    return shackd::parse_config(text + miners, "shackd.yaml").errors;
  };
  for (const char* kind : {"braiins", "luxos"}) {
    CHECK(errors(surplus_site(), "miners:\n  primary_s21: {kind: " + std::string(kind) + ", host: 10.0.0.5" + std::string(kTarget) + "}\n")
              .empty());
  }
  for (const char* kind : {"whatsminer", "whatsminer_v2"}) {
    CHECK(errors(surplus_site(), "miners:\n  primary_s21: {kind: " + std::string(kind) +
                                     ", host: 10.0.0.5, password: x, target: {min_w: 1000, max_w: 3400, step_w: 100}}\n")
              .empty());
  }
  // Where each target goes to its flash, raises at most every 300 s.
  const auto flash = errors(surplus_site(), "miners:\n  primary_s21: {kind: luxos, host: 10.0.0.5, target: {min_w: 2800, max_w: "
                                            "3500, step_w: 100, raise_interval_s: 120}}\n");
  REQUIRE(flash.size() == 1);
  CHECK(flash[0].find("miners.primary_s21.target.raise_interval_s") != std::string::npos);
  CHECK(flash[0].find("120 s is below 300 s: LuxOS (Luxor firmware) saves each target to its flash (at most 12 raises an hour)") !=
        std::string::npos);
  CHECK(errors(surplus_site(), "miners:\n  primary_s21: {kind: whatsminer, host: 10.0.0.5, password: x, target: {min_w: 1000, "
                               "max_w: 3400, step_w: 100, raise_interval_s: 60}}\n")
            .empty());
  // A percent: whole percents of rated_w, at most 100 % of it.
  const auto percent = errors(surplus_site(), "miners:\n  primary_s21: {kind: whatsminer_v2, host: 10.0.0.5, password: x, "
                                              "target: {min_w: 1000, max_w: 3600, step_w: 20, rated_w: 3400}}\n");
  REQUIRE(percent.size() == 2);
  CHECK(percent[0].find("miners.primary_s21.target.max_w") != std::string::npos);
  CHECK(percent[0].find("3600 W is above rated_w 3400 W: Whatsminer (btminer API v2) takes at most 100 % of its rated power") !=
        std::string::npos);
  CHECK(percent[1].find("20 W is below 1 % of rated_w 3400 W (34 W)") != std::string::npos);
  const auto rated_watts = errors(surplus_site(), "miners:\n  primary_s21: {kind: braiins, host: 10.0.0.5, target: {min_w: 800, "
                                                  "max_w: 3600, rated_w: 3600}}\n");
  REQUIRE(rated_watts.size() == 1);
  CHECK(rated_watts[0].find("takes its target in watts: rated_w is for a percent") != std::string::npos);
  const auto no_range = errors(surplus_site(), "miners:\n  primary_s21: {kind: braiins, host: 10.0.0.5, target: {step_w: 100}}\n");
  REQUIRE(no_range.size() == 1);
  CHECK(no_range[0].find("min_w and max_w are required") != std::string::npos);
}

TEST_CASE("check refuses a power target on a miner whose profile does not run on the surplus") {
  test::FakeSite site("miners:\n  primary_s21: {kind: braiins, host: 127.0.0.1" + std::string(kTarget) + "}\n");
  CHECK(site.daemon->start());  // refused: cannot start
}

namespace {
// Each kind's target block for the simulator's 3250 W miner: LuxOS in a power-targeting mode
// (atm's 800-3600 W), and a Whatsminer's percent of its 3250 W rating.
std::string target_of(const std::string& kind, const std::string& more = "") {
  if (kind == "whatsminer" || kind == "whatsminer_v2") {
    return ", target: {min_w: 800, max_w: 3250, step_w: 100, rated_w: 3250" + more + "}";
  }
  return ", target: {min_w: 800, max_w: 3600, step_w: 200" + more + "}";
}
int count_published(const test::FakeBroker& broker, const std::string& topic, const std::string& part) {
  int n = 0;
  for (const auto& m : broker.published) n += m.topic == topic && m.payload.find(part) != std::string::npos;
  return n;
}
}  // namespace

TEST_CASE("LuxOS and Whatsminer (API v3 and v2) follow the measured surplus with their power target") {
  for (const std::string kind : {"luxos", "whatsminer", "whatsminer_v2"}) {
    CAPTURE(kind);
    MinerSite s(kind.c_str(), target_of(kind), surplus_site());
    s.house_w = 400;
    s.site->gx->values["system.pv_dc_w"] = 3000;
    s.site->gx->values["system.ac_consumption_l1_w"] = 400;
    s.site->gx->values["system.ac_consumption_l2_w"] = 0;
    s.site->gx->values["system.ac_consumption_l3_w"] = 0;
    s.run(420);
    REQUIRE(s.relay_on);
    // 3000 W of PV less a 400 W house: 2600 W, in each firmware's own words.
    CHECK(s.miner.target_writes == 1);
    if (kind == "luxos") CHECK(s.miner.last_target_command == "powertargetset power=2600");
    if (kind == "whatsminer") CHECK(s.miner.last_target_command == "set.miner.power_percent 80 normal");
    if (kind == "whatsminer_v2") CHECK(s.miner.last_target_command == "set_power_pct_v2 80");
    CHECK(s.miner.draw_w() == doctest::Approx(kind == "luxos" ? 2600 : 2600).epsilon(0.02));
    // A cloud: the target comes down to what is there, and the miner keeps mining on its relay.
    s.site->gx->values["system.pv_dc_w"] = 1800;
    s.run(240);
    CHECK(s.miner.target_writes == 2);
    CHECK(s.relay_on);
    CHECK(s.miner.sleeps == 0);
    CHECK(s.miner.draw_w() == doctest::Approx(1400).epsilon(0.04));
    const auto j = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/miner"));
    CHECK(j["target_w"] == 1400);
    if (kind == "luxos") CHECK(j["power_target_w"] == 1400);  // read back from atm
    CHECK(s.site->broker.last("shack/device_alarms").find("target_ignored") == std::string::npos);
  }
}

TEST_CASE("a miner that ignores its power target is caught, reported once, and runs on and off without one") {
  for (const std::string kind : {"braiins", "whatsminer_v2"}) {
    CAPTURE(kind);
    MinerSite s(kind.c_str(), target_of(kind, ", settle_s: 300"), surplus_site());
    s.miner.ignores_target = true;  // takes every write, draws its 3250 W
    s.house_w = 400;
    s.site->gx->values["system.pv_dc_w"] = 4000;
    s.site->gx->values["system.ac_consumption_l1_w"] = 400;
    s.site->gx->values["system.ac_consumption_l2_w"] = 0;
    s.site->gx->values["system.ac_consumption_l3_w"] = 0;
    s.run(300);
    REQUIRE(s.relay_on);
    REQUIRE(s.miner.target_writes >= 1);  // 3600 W (3250 W, all of a Whatsminer) asked: within a step of neither
    s.site->gx->values["system.pv_dc_w"] = 3000;  // 2600 W: the target comes down; the miner stays at 3250 W
    s.run(400);
    const int writes = s.miner.target_writes;
    auto alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
    REQUIRE(alarms["alarms"].size() == 1);
    CHECK(alarms["alarms"][0]["id"] == "primary_s21.target_ignored");
    CHECK_MESSAGE(alarms["alarms"][0]["text"].get<std::string>().starts_with("it does not follow its power target: it draws 3250 W"),
                  alarms.dump());
    // Reported once: one event; no more target writes; no target wanted.
    s.run(600);
    CHECK(count_published(s.site->broker, "shack/event", "target_ignored") == 1);
    CHECK(s.miner.target_writes == writes);
    const auto j = nlohmann::json::parse(s.site->broker.last("shack/load/primary_s21/miner"));
    CHECK(j["target_w"].is_null());
    // On and off as a miner without a target: 2600 W of surplus run it (its minimum 800 W) ...
    CHECK(s.relay_on);
    // ... less than its minimum stops it, asleep first.
    s.site->gx->values["system.pv_dc_w"] = 1000;
    s.run(60);
    CHECK_FALSE(s.relay_on);
    CHECK(s.miner.sleeps == 1);
  }
}

TEST_CASE("a LuxOS model not in a power-targeting mode is run on and off at once, reported once") {
  MinerSite s("luxos", target_of("luxos"), surplus_site());
  s.miner.power_targeting = false;
  s.house_w = 400;
  s.site->gx->values["system.pv_dc_w"] = 3000;
  s.site->gx->values["system.ac_consumption_l1_w"] = 400;
  s.site->gx->values["system.ac_consumption_l2_w"] = 0;
  s.site->gx->values["system.ac_consumption_l3_w"] = 0;
  s.run(420);
  CHECK(s.relay_on);
  CHECK(s.miner.target_writes == 0);
  const auto alarms = nlohmann::json::parse(s.site->broker.last("shack/device_alarms"));
  REQUIRE(alarms["alarms"].size() == 1);
  CHECK(alarms["alarms"][0]["text"].get<std::string>().find("not in a power-targeting mode") != std::string::npos);
  CHECK(count_published(s.site->broker, "shack/event", "target_ignored") == 1);
}


// The MQTT intake alone (daemon/intake/mqtt_intake.hpp, issue 44 item 3): messages in, values
// out, nothing of the core, the store or the publisher touched. A FakeLink holds what the broker
// sent; the clock is stepped by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/intake/mqtt_intake.hpp"
#include "drivers/mqtt/relays.hpp"
#include "rules/profile.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/shack_profiles.hpp"

namespace {

using namespace std::chrono_literals;

class StepClock final : public shackd::LoopClock {
 public:
  rules::SteadyTime steady() const override { return t; }
  std::int64_t wall_ms() const override { return 1'790'000'000'000; }
  rules::SteadyTime t{};
};

shackd::Config intake_config() {
  shackd::Config c;
  c.mqtt.prefix = "shack";
  c.mqtt.discovery = true;
  drivers::mqtt::SensorConfig t;
  t.id = "heat_room_temp";
  t.topic = "tele/heat_room_temp/SENSOR";
  t.format = drivers::mqtt::SensorFormat::number;
  c.sensors.push_back(t);
  return c;
}

const std::vector<shackd::LoadRef> kLoads{
    {shackd::LoadRef::Kind::miner, 0, "primary_s21", "Primary S21+", "miner:Primary S21+"},
};

bool has_event(const shackd::Intake& in, const std::string& kind, const std::string& text) {
  for (const auto& e : in.events) {
    if (e.kind == kind && e.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

// The intake configured, the site it checks against, a FakeLink and a stepped clock.
struct Bench {
  explicit Bench(const shackd::Config& config = intake_config(), shackd::StoredProfiles stored = {},
                 std::vector<shackd::LoadRef> site_loads = kLoads)
      : profiles(std::move(stored)), loads(std::move(site_loads)) {
    intake.configure(config, "site");
  }
  shackd::MqttIntake intake;
  const shackd::StoredProfiles profiles;
  const std::vector<shackd::LoadRef> loads;
  const shackd::IntakeSite site{loads, profiles};
  test::FakeBroker broker;
  test::FakeLink link{broker};
  // The link's events as its owner hands them to the intake (daemon/loop/mqtt_links.hpp).
  const shackd::MqttIntake::NextEvent next = [this] { return link.poll(std::chrono::milliseconds(0)); };
  StepClock clock;
};

}  // namespace

TEST_CASE_FIXTURE(Bench, "mqtt intake: each message checked where it arrives and handed on as a value") {
  broker.set_up(false);
  broker.set_up(true);
  broker.message("shack/load/primary_s21/mode/set", "off 10m");
  broker.message("shack/load/primary_s21/mode/set", "on", true);  // retained: stale, ignored
  broker.message("shack/load/Primary S21+/mode/set", "sideways");
  broker.message("shack/load/nobody/mode/set", "on");
  broker.message("tele/heat_room_temp/SENSOR", "21.5");
  broker.message("tele/heat_room_temp/SENSOR", "22.5", true);  // retained: its age is unknown
  broker.message("homeassistant/status", "online");
  broker.message("tele/heat_room_temp/SENSOR", std::string(shackd::MqttIntake::kMaxPayloadBytes + 1, '1'));
  broker.message("shack/load/primary_s21/start_voltage/set", "51");  // allow_settings is off: not read
  const shackd::Intake in = intake.take(next, nullptr, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.connected);
  REQUIRE(in.overrides.size() == 1);
  CHECK(in.overrides[0].load_id == "primary_s21");
  CHECK(in.overrides[0].said == "off 10m");
  CHECK(has_event(in, "override_rejected", "'sideways' is not auto, on or off"));
  CHECK(has_event(in, "override_rejected", "nobody"));
  REQUIRE(in.readings.size() == 1);
  CHECK(in.readings[0] == std::pair<std::string, double>{"sensor.heat_room_temp", 21.5});
  CHECK(in.send_everything);
  CHECK(in.refused == 1);
  CHECK(in.dropped == 0);
  CHECK(in.settings.empty());
  CHECK(in.failures.empty());
  CHECK(broker.inbound.empty());
}

TEST_CASE_FIXTURE(Bench, "mqtt intake: a flood costs a bounded share of a cycle, counted; connection news is always read") {
  const std::size_t n = shackd::MqttIntake::kMessagesPerCycle + 200;
  for (std::size_t i = 0; i < n; ++i) broker.message("tele/heat_room_temp/SENSOR", "20");
  broker.set_up(false);  // behind the flood: still read
  shackd::Intake in = intake.take(next, nullptr, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.readings.size() == shackd::MqttIntake::kMessagesPerCycle);
  CHECK(in.dropped == 200);
  CHECK(intake.broker().health().down_since_unix_s.has_value());
  // The cycle's time is spent: every message after it is dropped, the link's news still read.
  broker.message("tele/heat_room_temp/SENSOR", "20");
  broker.set_up(true);
  in = intake.take(next, nullptr, site, clock, clock.t, clock.t);
  CHECK(in.readings.empty());
  CHECK(in.dropped == 1);
  CHECK(in.connected);
}

// The broker's count of the drops comes behind the flood that made them, said once: it is read
// however the cycle's share was spent (before: dropped with the flood, and never heard again).
TEST_CASE_FIXTURE(Bench, "mqtt intake: the broker's $SYS count behind a flood is read past the cycle's share") {
  broker.message(shackd::kBrokerDroppedTopic, "10", true);  // the base
  intake.take(next, nullptr, site, clock, clock.t + 1s, clock.t);
  for (std::size_t i = 0; i < shackd::MqttIntake::kMessagesPerCycle + 50; ++i) {
    broker.message("tele/heat_room_temp/SENSOR", "20");
  }
  broker.message(shackd::kBrokerDroppedTopic, "2491");
  shackd::Intake in = intake.take(next, nullptr, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.dropped == 50);
  CHECK(intake.broker().health().broker_dropped == 2481);
  // And when the cycle's time is spent before it: still read.
  broker.message("tele/heat_room_temp/SENSOR", "20");
  broker.message(shackd::kBrokerDroppedTopic, "2500");
  in = intake.take(next, nullptr, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 1);
  CHECK(intake.broker().health().broker_dropped == 2490);
}

namespace {

// The intake with settings allowed, on the Solar Shack's profiles.
struct SettingsBench : Bench {
  SettingsBench() : Bench(settable(), test::shack_profiles(), shackd::load_refs(test::shack_profiles())) { broker.set_up(true); }
  static shackd::Config settable() {
    shackd::Config c = intake_config();
    c.mqtt.allow_settings = true;
    return c;
  }
};

}  // namespace

// A relay's word behind a flood, or after the cycle's time is spent, is read: its answer to a
// question asked once at a connect (the power-on setting) was dropped with the rest, and the
// relay's risk after a power cut was not known for hours (CI, ASan: one answer of six lost in a
// connect's burst). Bounded by its own count: a flood on a relay's topic is still a bounded cost.
TEST_CASE_FIXTURE(Bench, "mqtt intake: a relay's word is read past the cycle's share, up to its own count") {
  drivers::mqtt::RelayConfig dump;
  dump.id = "dump";
  dump.protocol = drivers::mqtt::RelayProtocol::tasmota;
  dump.topic = "dump";
  std::vector<std::string> asked;
  drivers::mqtt::RelayManager relays({dump}, {}, [&](const std::string& topic, const std::string&, int, bool) {
    asked.push_back(topic);
    return true;
  });
  CHECK(relays.listens_to("stat/dump/RESULT"));
  CHECK(relays.listens_to("tele/dump/LWT"));
  CHECK_FALSE(relays.listens_to("tele/heat_room_temp/SENSOR"));
  CHECK_FALSE(relays.listens_to("stat/other/RESULT"));
  relays.on_connected(clock.t);
  REQUIRE(std::count(asked.begin(), asked.end(), "cmnd/dump/PowerOnState") == 1);

  for (std::size_t i = 0; i < shackd::MqttIntake::kMessagesPerCycle + 50; ++i) {
    broker.message("tele/heat_room_temp/SENSOR", "20");
  }
  broker.message("stat/dump/RESULT", R"({"PowerOnState":3})");
  shackd::Intake in = intake.take(next, &relays, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.dropped == 50);
  REQUIRE(relays.power_on("dump").state);
  CHECK(relays.power_on("dump").state->setting == "3");
  // The cycle's time spent before it: read all the same.
  broker.message("tele/heat_room_temp/SENSOR", "20");
  broker.message("stat/dump/RESULT", R"({"PowerOnState":0})");
  in = intake.take(next, &relays, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 1);
  CHECK(relays.power_on("dump").state->setting == "0");
  // A flood on the relay's own topic past the share: kRelayWordsPerCycle of it, the rest dropped.
  for (std::size_t i = 0; i < shackd::MqttIntake::kRelayWordsPerCycle + 30; ++i) broker.message("stat/dump/RESULT", "{}");
  in = intake.take(next, &relays, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 30);
  // ... and of its bytes: four 30 KiB messages past the share, two read (60 KiB of 64), two dropped.
  for (int i = 0; i < 4; ++i) broker.message("stat/dump/RESULT", std::string(30 * 1024, ' '));
  in = intake.take(next, &relays, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 2);
  CHECK(broker.inbound.empty());
}

TEST_CASE_FIXTURE(Bench, "mqtt intake: a relay's message is dated when the link took it, not when the cycle read it") {
  // Two periodic STATEs of one start, the second read 9.5 s after it came (a 10 s interval): dated
  // at the cycle, its uptime put the start 10 s later than the first's, past the 5 s slack, and a
  // running load was judged to have lost its power.
  drivers::mqtt::RelayConfig dump;
  dump.id = "dump";
  dump.protocol = drivers::mqtt::RelayProtocol::tasmota;
  dump.topic = "dump";
  drivers::mqtt::RelayManager relays({dump}, {}, [](const std::string&, const std::string&, int, bool) { return true; });
  relays.on_connected(clock.t);
  relays.set_desired("dump", true, clock.t);
  broker.message("tele/dump/STATE", R"({"UptimeSec":1000,"POWER1":"ON"})", false, std::chrono::steady_clock::now());
  intake.take(next, &relays, site, clock, clock.t + 250ms, clock.t);
  REQUIRE(relays.status("dump").boot_at);
  CHECK(clock.t - 1000s - *relays.status("dump").boot_at < 1s);  // taken at once: late by microseconds
  clock.t += 70s;
  broker.message("tele/dump/STATE", R"({"UptimeSec":1060,"POWER1":"ON"})", false, std::chrono::steady_clock::now() - 9500ms);
  intake.take(next, &relays, site, clock, clock.t + 250ms, clock.t);
  CHECK(relays.take_power_news().empty());
  const auto boot_moved = *relays.status("dump").boot_at - (clock.t - 70s - 1000s);
  CHECK(boot_moved > -1s);
  CHECK(boot_moved < 1s);
  // A message with no stamp (the epoch) is dated at the cycle.
  clock.t += 10s;
  broker.message("tele/dump/STATE", R"({"UptimeSec":1080,"POWER1":"ON"})");
  intake.take(next, &relays, site, clock, clock.t + 250ms, clock.t);
  CHECK(relays.take_power_news().empty());
  CHECK(relays.status("dump").heard_at == clock.t);
}

// The owner's word behind a flood (a mode command, a setting) is read as a relay's is: an owner who
// forced a load OFF while a sensor flooded the broker lost that command with the flood, counted
// among the drops and said nowhere else. Bounded by its own count and bytes.
TEST_CASE_FIXTURE(SettingsBench, "mqtt intake: the owner's mode command and setting are read past the cycle's share, up to their own count") {

  for (std::size_t i = 0; i < shackd::MqttIntake::kMessagesPerCycle + 40; ++i) {
    broker.message("tele/heat_room_temp/SENSOR", "20");
  }
  broker.message("shack/load/primary_s21/mode/set", "off 10m");
  broker.message("shack/load/primary_s21/start_voltage/set", "52.5");
  broker.message("shack/load/primary_s21/mode", "off");  // not a command (no /set): dropped with the flood
  shackd::Intake in = intake.take(next, nullptr, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.dropped == 41);
  REQUIRE(in.overrides.size() == 1);
  CHECK(in.overrides[0].load_id == "primary_s21");
  CHECK(in.failures.empty());
  CHECK(in.settings.size() == 1);
  // The cycle's time spent before it: read all the same.
  broker.message("tele/heat_room_temp/SENSOR", "20");
  broker.message("shack/load/primary_s21/mode/set", "auto");
  in = intake.take(next, nullptr, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 1);
  CHECK(in.overrides.size() == 1);
  // A flood of commands past the share: kOwnerWordsPerCycle of it, the rest dropped.
  for (std::size_t i = 0; i < shackd::MqttIntake::kOwnerWordsPerCycle + 20; ++i) {
    broker.message("shack/load/primary_s21/mode/set", "auto");
  }
  in = intake.take(next, nullptr, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 20);
  CHECK(in.overrides.size() == shackd::MqttIntake::kOwnerWordsPerCycle);
  // ... and of its bytes: three 7 KiB commands past the share, two read (14 KiB of 16), one dropped
  // (each refused where it is read: not a mode).
  for (int i = 0; i < 3; ++i) broker.message("shack/load/primary_s21/mode/set", std::string(7 * 1024, 'x'));
  in = intake.take(next, nullptr, site, clock, clock.t, clock.t);
  CHECK(in.dropped == 1);
  CHECK(in.overrides.empty());
  CHECK(broker.inbound.empty());
}

// Issue 56: messages the broker drops for its subscribers, as mosquitto counts them on $SYS for all
// its clients together (daemon/intake/broker_watch.hpp). The retained figure at subscription is the
// base; each rise is counted and an alarm raised once, cleared after ten quiet minutes; a smaller
// figure is a restarted broker; what is not a count is refused; a first figure that comes live
// (the retained one had expired) is said to be of unknown share.
TEST_CASE_FIXTURE(Bench, "mqtt intake: the broker's dropped messages counted from its $SYS figure, hostile words refused") {
  const auto take = [&] { return intake.take(next, nullptr, site, clock, clock.t + 1s, clock.t); };
  const auto& h = intake.broker().health();
  broker.message(shackd::kBrokerDroppedTopic, "120", true);  // retained: the base
  auto in = take();
  CHECK(in.events.empty());
  REQUIRE(h.broker_dropped_total);
  CHECK(h.broker_dropped == 0);
  for (const char* bad : {"", "-5", "12x", "1e9", "999999999999999999999999", " 7", "\xff"}) {
    broker.message(shackd::kBrokerDroppedTopic, bad);
    CHECK(take().events.empty());
  }
  CHECK(*h.broker_dropped_total == 120);
  broker.message(shackd::kBrokerDroppedTopic, "200");
  in = take();
  CHECK(h.broker_dropped == 80);
  CHECK(has_event(in, "alarm", "broker_dropping: the broker dropped 80 message(s)"));
  broker.message(shackd::kBrokerDroppedTopic, "260");
  in = take();
  CHECK(h.broker_dropped == 140);
  CHECK(in.events.empty());  // one alarm while it goes on
  clock.t += shackd::BrokerWatch::kDropQuiet;
  in = take();
  CHECK(has_event(in, "alarm_end", "broker_dropping: cleared"));
  broker.message(shackd::kBrokerDroppedTopic, "30");  // the broker restarted: 30 since then
  in = take();
  CHECK(h.broker_dropped == 170);
  CHECK(has_event(in, "alarm", "broker_dropping"));
  // A neighbour's figures at the top of the range and back (a "restart" each time): the sum
  // saturates, it never wraps below what it was.
  for (const char* figure : {"18446744073709551615", "0", "18446744073709551615"}) {
    broker.message(shackd::kBrokerDroppedTopic, figure);
    take();
  }
  CHECK(h.broker_dropped == UINT64_MAX);

  shackd::MqttIntake fresh;
  fresh.configure(intake_config(), "site");
  broker.message(shackd::kBrokerDroppedTopic, "5000");  // live: no retained base
  in = fresh.take(next, nullptr, site, clock, clock.t + 1s, clock.t);
  CHECK(fresh.broker().health().broker_dropped == 0);
  CHECK(fresh.broker().health().broker_dropped_unknown);
  CHECK(has_event(in, "alarm", "how many since shackd subscribed it cannot tell"));
}

// A refused setting comes out as a Refusal with its parts (issue 57, item 6): the load, the field,
// the value as it entered, the rule; and the sentence the log and the event say.
TEST_CASE_FIXTURE(SettingsBench, "mqtt intake: a refused setting names its load, field, value and rule") {
  broker.message("shack/load/primary_s21/start_voltage/set", "52,5");
  broker.message("shack/load/nobody/start_voltage/set", "52");
  broker.message("shack/load/primary_s21/start_voltage/set", "52.5");
  const shackd::Intake in = intake.take(next, nullptr, site, clock, clock.t + 250ms, clock.t);
  CHECK(in.settings.size() == 1);  // the good one
  CHECK(in.failures.empty());
  REQUIRE(in.settings_refused.size() == 2);
  const shackd::Refusal& comma = in.settings_refused[0];
  CHECK(comma.load_id == "primary_s21");
  CHECK(comma.field == "start_voltage");
  CHECK(comma.value == "52,5");
  CHECK_FALSE(comma.rule.empty());
  CHECK(comma.said.find("start_voltage = '52,5': " + comma.rule) != std::string::npos);
  const shackd::Refusal& nobody = in.settings_refused[1];
  CHECK(nobody.load_id.empty());  // no load matched: none is named as the event's load
  CHECK(nobody.field == "load");
  CHECK(nobody.value == "nobody");
  CHECK(nobody.said == "no miner 'nobody'");
}

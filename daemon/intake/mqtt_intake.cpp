#include "daemon/intake/mqtt_intake.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <string_view>

#include "daemon/vocab/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/commands.hpp"
#include "drivers/mqtt/sensors.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

namespace {

// When the link took `e`, on the loop's clock: `now` less how long it waited for the cycle (up to
// an interval, 60 s at most). A relay's start is dated from its uptime and this: stamped `now`, two
// reports of one start a cycle apart in lateness looked like two starts (past RelayManager::
// kBootSlack at a 10 s interval), and a running load was cut as if its power had been lost.
rules::SteadyTime heard_at(const drivers::mqtt::Event& e, rules::SteadyTime now,
                           std::chrono::steady_clock::time_point taken_at) {
  if (e.arrived == std::chrono::steady_clock::time_point{} || e.arrived >= taken_at) return now;
  return now - std::chrono::duration_cast<rules::Duration>(taken_at - e.arrived);
}

}  // namespace

bool MqttIntake::PastShare::admits(std::size_t payload_bytes) const {
  return words < max_words && bytes + payload_bytes <= max_bytes;
}

void MqttIntake::PastShare::take(std::size_t payload_bytes) {
  ++words;
  bytes += payload_bytes;
}

// A mode command or a setting on this site's prefix (<prefix>/load/<id>/mode/set,
// <prefix>/load/<id>/<field>/set), told without building a string: it is asked of every message
// past the share. Which one it is, and whether it is well formed, is message()'s to say.
bool MqttIntake::owner_topic(const std::string& topic) const {
  static constexpr std::string_view kLoad = "/load/", kSet = "/set";
  const std::string_view t = topic;
  return t.size() > mqtt_.prefix.size() + kLoad.size() + kSet.size() && t.starts_with(mqtt_.prefix) &&
         t.substr(mqtt_.prefix.size()).starts_with(kLoad) && t.ends_with(kSet);
}

void MqttIntake::configure(const Config& config, const std::string& fleet_site_id) {
  mqtt_ = config.mqtt;
  dry_run_ = config.dry_run;
  sensors_ = config.sensors;
  uplink_ = config.uplink.enabled;
  bridge_ = config.uplink.bridge.empty() ? "shackd-" + fleet_site_id : config.uplink.bridge;
  section_ = config.profiles;
  if (!uplink_) broker_.forget_bridges();  // the uplink turned off: its bridges are no news
}

void MqttIntake::offer(const StoredProfiles& profiles, const std::vector<LoadRef>& loads) {
  offered_.clear();
  if (!mqtt_.allow_settings) return;
  std::vector<std::string> kept;
  offered_ = offered_settings(profiles, loads, section_, &kept);
  std::vector<std::string> names;
  for (const auto& s : offered_) names.push_back(s.load_name + " " + s.field);
  log::info("mqtt.allow_settings: settable over MQTT and in Home Assistant: {}",
            names.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(names, ", ")));
  // Said once: why a value the owner expects in Home Assistant is not there.
  for (const auto& k : kept) log::info("mqtt.allow_settings: {} is the config file's: not settable over MQTT", k);
}

Intake MqttIntake::take(const NextEvent& next, drivers::mqtt::RelayManager* relays, const IntakeSite& site,
                        const LoopClock& clock, rules::SteadyTime budget_end, rules::SteadyTime now) {
  Intake in;
  std::size_t handled = 0, broker_words = 0;
  PastShare relay_words{kRelayWordsPerCycle, kRelayWordBytesPerCycle};
  PastShare owner_words{kOwnerWordsPerCycle, kOwnerWordBytesPerCycle};
  const std::int64_t wall = clock.wall_s();
  std::optional<BrokerWatch::Alarm> quiet;
  broker_.tick(now, quiet);  // the broker's drops: the alarm's end after a quiet spell
  if (quiet) in.events.push_back({quiet->raised ? "alarm" : "alarm_end", "", quiet->text});
  const auto taken_at = std::chrono::steady_clock::now();  // the clock the link stamps a message with
  while (const auto e = next()) {
    const bool news = e->kind != drivers::mqtt::Event::Kind::message;
    // The broker's own words ($SYS: its count of drops, a bridge's state) are read past the cycle's
    // share, up to kBrokerWordsPerCycle of them: mosquitto says a figure only when it changes, and
    // the one that counts a flood comes behind that flood (e2e daemon_e2e lost it under load, and
    // shackd never heard of the drops). Each is one small number; the bound holds should a client
    // the broker lets publish on $SYS flood it too.
    const bool broker_word = !news && e->topic.rfind("$SYS/", 0) == 0 && broker_words < kBrokerWordsPerCycle;
    const bool past_share = !news && !broker_word && (handled >= kMessagesPerCycle || clock.steady() >= budget_end);
    // A relay's word past the share is read too, up to kRelayWordsPerCycle: its state, its will,
    // and the answer to what it was asked once (its power-on setting: asked at each connect and
    // not again for hours). A connect's burst on a loaded machine spent the share's time and
    // dropped one of six answers (CI, ASan: that relay's power-on risk unknown for hours).
    // Counted in bytes too: past the share the cycle's time is spent, and 256 hostile 64 KiB
    // messages on a relay's topic would be 16 MB of JSON to parse before the decision.
    // The owner's own word likewise (a mode command, a setting: <prefix>/load/.../set): an owner
    // who forces a heater OFF while a sensor floods the broker is not to lose that command with the
    // flood, counted among the drops and otherwise unsaid.
    if (past_share) {
      PastShare* lane = nullptr;
      if (relays && relay_words.admits(e->payload.size()) && relays->listens_to(e->topic)) lane = &relay_words;
      else if (owner_words.admits(e->payload.size()) && owner_topic(e->topic)) lane = &owner_words;
      if (!lane) {
        ++in.dropped;
        continue;
      }
      lane->take(e->payload.size());
    } else if (broker_word) {
      ++broker_words;
    } else if (!news) {
      ++handled;
    }
    // Each event alone: one that throws loses itself, never the rest of the cycle's.
    try {
      if (news) connection(in, *e, relays, now, wall);
      else message(in, e->topic, e->payload, e->retained, relays, site, now, heard_at(*e, now, taken_at), wall);
    } catch (const std::exception& x) {
      in.failures.push_back(x.what());
    } catch (...) {
      in.failures.push_back("an unknown exception");
    }
  }
  if (const auto a = broker_.watch(wall)) in.events.push_back({"alarm", "", a->text});
  return in;
}

// The link's news (BrokerWatch keeps the outages for <prefix>/health). A connection sends every
// relay's command again at once, before the messages after it (the relays' retained states); the
// rest of what it starts (the events waiting first, everything published again) is the loop's.
void MqttIntake::connection(Intake& into, const drivers::mqtt::Event& e, drivers::mqtt::RelayManager* relays,
                            rules::SteadyTime now, std::int64_t wall_s) {
  switch (e.kind) {
    case drivers::mqtt::Event::Kind::connect_failed:
      if (const auto a = broker_.connect_failed(e.payload, wall_s)) into.events.push_back({"alarm", "", a->text});
      break;
    case drivers::mqtt::Event::Kind::connected:
      into.connected = true;
      if (const auto a = broker_.connected(wall_s)) into.events.push_back({"alarm_end", "", a->text});
      log::info("mqtt: connected to {}", mqtt_.uri);
      if (relays && !dry_run_) relays->on_connected(now);
      break;
    case drivers::mqtt::Event::Kind::lost:
      broker_.lost(e.payload, wall_s);
      if (relays) relays->on_lost();
      break;
    case drivers::mqtt::Event::Kind::message: break;
  }
}

void MqttIntake::message(Intake& into, const std::string& topic, const std::string& payload, bool retained,
                         drivers::mqtt::RelayManager* relays, const IntakeSite& site, rules::SteadyTime now,
                         rules::SteadyTime heard,
                         std::int64_t wall_s) {
  if (payload.size() > kMaxPayloadBytes || topic.size() > kMaxTopicBytes) {
    ++into.refused;
    log::limited("mqtt oversized", log::Level::warn,
                 fmt::format("mqtt: ignored a message on '{}' of more than {} bytes", drivers::text::clean_utf8(topic, 80),
                             kMaxPayloadBytes));
    return;
  }
  // The broker's count of what it dropped, retained on purpose: the base to count from.
  if (topic == kBrokerDroppedTopic) {
    std::optional<BrokerWatch::Alarm> said;
    broker_.broker_drops(payload, retained, now, said);
    if (said) into.events.push_back({said->raised ? "alarm" : "alarm_end", "", said->text});
    return;
  }
  // The bridge's state is retained by the broker on purpose: it is the current one.
  if (uplink_) {
    std::optional<BrokerWatch::Alarm> said;
    const bool sys = broker_.bridge(topic, payload, wall_s, bridge_, said);
    if (said) into.events.push_back({said->raised ? "alarm" : "alarm_end", "", said->text});
    if (sys) return;
  }
  // A device that both switches and measures (a Tasmota plug with a DS18B20) sends its power and
  // its temperature in one tele/<t>/SENSOR: the relay takes its part, and the message still goes
  // on to the sensors below (they read only the topics configured).
  const bool relay_news = relays && relays->on_message(topic, payload, heard, retained);
  if (relay_news && !drivers::mqtt::is_sensor_topic(sensors_, topic)) return;
  if (const auto id = drivers::mqtt::mode_topic_load(mqtt_.prefix, topic)) {
    if (!retained) mode_command(into, *id, payload, site, now);  // a retained command is stale
    return;
  }
  if (const auto set = mqtt_.allow_settings ? setting_topic(mqtt_.prefix, topic) : std::nullopt) {
    if (!retained) setting(into, set->first, set->second, payload, site);  // a retained command is stale
    return;
  }
  if (mqtt_.discovery && topic == mqtt_.discovery_prefix + "/status") {
    if (payload == "online") into.send_everything = true;  // Home Assistant restarted
    return;
  }
  // A retained sensor message (Tasmota SensorRetain) has no age: it may be hours old, and stamping
  // it "now" would make a dead sensor look alive. Only live messages count.
  if (retained) {
    log::debug("ignored a retained message on {}: its age is unknown", drivers::text::clean_utf8(topic, 80));
    return;
  }
  const auto r = drivers::mqtt::parse_sensor_message(sensors_, topic, payload);
  for (const auto& x : r.readings) into.readings.emplace_back("sensor." + x.id, x.value);
  for (const auto& why : r.errors) log::limited("sensor " + topic, log::Level::warn, drivers::text::clean_utf8(why, 300));
}

// A mode command, read and checked where it arrives: a refusal is said here and never reaches the
// core.
void MqttIntake::mode_command(Intake& into, const std::string& id, const std::string& payload, const IntakeSite& site,
                              rules::SteadyTime now) {
  auto read = read_override(site.loads, id, payload, now);
  if (!read) {
    const Refusal& no = read.refusal();
    const auto* load = no.load_id.empty() ? nullptr : find_load(site.loads, no.load_id).front();
    log::limited("override refused", log::Level::warn,
                 load ? fmt::format("{}: override refused: {}", load->name, no.said) : "override refused: " + no.said);
    into.events.push_back({"override_rejected", no.load_id, no.said});
    return;
  }
  into.overrides.push_back(std::move(read.value()));
}

// A setting, checked as the config file's value would be (daemon/config/mqtt_settings.hpp); it is
// stored before it is in force, by the loop through the recorder.
void MqttIntake::setting(Intake& into, const std::string& addressed, const std::string& field,
                         const std::string& payload, const IntakeSite& site) {
  // By relay id or by name, as a mode command (find_load); anything else is refused below.
  const auto found = find_load(site.loads, addressed);
  const std::string id = found.size() == 1 ? found.front()->id : addressed;
  // Checked on top of the settings before it in this take, as they will be in force.
  const StoredProfiles& base = into.settings.empty() ? site.profiles : into.settings.back().next;
  auto r = apply_setting(base, site.loads, section_, id, field, payload);
  if (!r) {
    into.settings_refused.push_back(r.refusal());
    return;
  }
  into.settings.push_back(SettingRequest{.load_id = id,
                                         .field = field,
                                         .payload = payload,
                                         .source = "mqtt: " + mqtt_.prefix + "/load/" + id + "/" + field + "/set",
                                         .change = std::move(r->change),
                                         .before = base,
                                         .next = std::move(r->next)});
}

std::vector<std::pair<std::string, double>> listen_for_sensors(const MqttConfig& mqtt,
                                                               const std::vector<drivers::mqtt::SensorConfig>& sensors,
                                                               std::chrono::milliseconds bound, const LoopClock& clock) {
  std::vector<std::pair<std::string, double>> heard;
  if (sensors.empty()) return heard;
  drivers::mqtt::Client client(side_client_config(mqtt, "once"));
  for (const auto& s : sensors) client.subscribe(s.topic);
  client.start();
  std::set<std::string> want;
  for (const auto& s : sensors) want.insert(s.id);
  const auto until = clock.steady() + bound;
  while (!want.empty() && clock.steady() < until) {
    const auto e = client.poll(std::chrono::milliseconds(20));
    if (!e) continue;
    if (e->kind == drivers::mqtt::Event::Kind::connect_failed) {
      log::warn("once: mqtt: {}; deciding without the MQTT sensors", e->payload);
      break;
    }
    // As in the loop: a retained message has no age, so it is not a reading.
    if (e->kind != drivers::mqtt::Event::Kind::message || e->retained) continue;
    const auto r = drivers::mqtt::parse_sensor_message(sensors, e->topic, e->payload);
    for (const auto& x : r.readings) {
      heard.emplace_back("sensor." + x.id, x.value);
      want.erase(x.id);
    }
  }
  for (const auto& id : want) {
    log::info("once: no live message from sensor {} within {} s (Tasmota reports every TelePeriod)", id,
              bound.count() / 1000);
  }
  client.shutdown(std::chrono::milliseconds(500));
  return heard;
}

}  // namespace shackd

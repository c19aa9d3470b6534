#include "daemon/cli/relay_power_on.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "daemon/cli/cli_args.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/text/json_in.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

namespace {

using drivers::mqtt::PowerOnRisk;
using drivers::mqtt::PowerOnStatus;
using drivers::mqtt::RelayConfig;
using Clock = std::chrono::steady_clock;

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? drivers::text::clean_utf8(it->get<std::string>(), 300) : std::string();
}

// The relays of `ids` (all of them when empty). A Shelly answers on its caller's `src`: the
// daemon's own (shackd/rpc), the one topic the guide's broker ACL lets a Shelly write. A running
// daemon hears those answers too, and learns from them; a configuration answer is about its
// switch whoever asked, so neither side mistakes the other's for something else.
std::vector<RelayConfig> relays_for(const Config& cfg, const std::vector<std::string>& ids) {
  std::vector<RelayConfig> out;
  for (const auto& r : cfg.relays) {
    if (ids.empty() || std::find(ids.begin(), ids.end(), r.id) != ids.end()) out.push_back(r);
  }
  return out;
}

// Waits (bounded by `until`) until `done` holds, feeding every message to the watch.
template <typename Done>
void wait_for(drivers::mqtt::Client& client, drivers::mqtt::PowerOnWatch& watch, Clock::time_point until, Done done,
              PowerOnSurvey& out) {
  while (Clock::now() < until && !done()) {
    const auto e = client.poll(std::chrono::milliseconds(20));
    if (!e) continue;
    if (e->kind == drivers::mqtt::Event::Kind::message && !e->retained) watch.on_message(e->topic, e->payload, Clock::now());
    if (e->kind == drivers::mqtt::Event::Kind::connect_failed) out.broker_failure = e->payload;
  }
}

}  // namespace

std::vector<std::string> power_on_status_lines(const std::string& load_name, const std::string& id,
                                               const std::string& payload) {
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return {};
  const std::string risk = text_of(j, "risk"), text = text_of(j, "text"), fix = text_of(j, "fix");
  if (risk == "off" || risk == "asking" || text.empty()) return {};
  const bool warn = risk == "on" || risk == "follows_input" || risk == "unknown";
  return {fmt::format("{} relay {} ({}): {}{}", warn ? "WARNING" : "note:", id, load_name, text,
                      fix.empty() ? "" : "; " + fix)};
}

PowerOnSurvey survey_power_on(const Config& cfg, const std::vector<std::string>& ids, bool set_off,
                              std::chrono::milliseconds wait) {
  PowerOnSurvey out;
  const auto relays = relays_for(cfg, ids);
  drivers::mqtt::Client client(side_client_config(cfg.mqtt, "relays"));
  drivers::mqtt::PowerOnWatch watch(drivers::mqtt::share_relays(relays),
                                    [&](const std::string& t, const std::string& p, int qos, bool retain) {
                                      return client.publish(t, p, qos, retain);
                                    });
  for (const auto& s : watch.subscriptions()) client.subscribe(s);
  client.start();
  const auto connect_by = Clock::now() + std::chrono::seconds(5);
  wait_for(client, watch, connect_by, [&] { return client.connected(); }, out);
  out.broker_reached = client.connected();
  if (out.broker_reached) {
    // The subscriptions are the broker's before the first request: a reply never comes first.
    wait_for(client, watch, Clock::now() + std::chrono::milliseconds(200), [] { return false; }, out);
    const auto answered = [&](const std::string& id, int before) {
      const auto& s = watch.status(id);
      return !s.unreadable.empty() || s.answers > before || !s.refused.empty();
    };
    if (set_off) {
      for (const auto& r : relays) watch.set_off(r.id, Clock::now());
      wait_for(client, watch, Clock::now() + wait, [&] {
        return std::all_of(relays.begin(), relays.end(), [&](const RelayConfig& r) {
          const auto& s = watch.status(r.id);
          return !s.unreadable.empty() || s.set_taken || !s.refused.empty();
        });
      }, out);
    }
    // Asked afresh after any set: what the device holds now is the confirmation.
    std::map<std::string, int> before;
    for (const auto& r : relays) before[r.id] = watch.status(r.id).answers;
    watch.ask_all(Clock::now(), true);
    wait_for(client, watch, Clock::now() + wait, [&] {
      return std::all_of(relays.begin(), relays.end(), [&](const RelayConfig& r) { return answered(r.id, before[r.id]); });
    }, out);
    watch.tick(Clock::now() + drivers::mqtt::PowerOnWatch::kAnswerWait);  // what did not answer is unanswered
    for (const auto& r : relays) {
      PowerOnStatus s = watch.status(r.id);
      if (s.answers <= before[r.id]) s.state.reset();  // only what it said after the last request counts
      out.relays[r.id] = s;
    }
  }
  client.shutdown(std::chrono::milliseconds(500));
  return out;
}

std::vector<std::string> power_on_check_lines(const Config& cfg, const PowerOnSurvey& survey) {
  std::vector<std::string> out;
  if (!survey.broker_reached) {
    out.push_back(fmt::format("warning: the broker {} did not answer ({}): the relays' power-on states are not known",
                              cfg.mqtt.uri, survey.broker_failure.empty() ? "no answer within 5 s" : survey.broker_failure));
    return out;
  }
  for (const auto& r : cfg.relays) {
    const auto it = survey.relays.find(r.id);
    if (it == survey.relays.end()) continue;
    const PowerOnStatus& s = it->second;
    const bool stays_off = s.state && s.state->risk == PowerOnRisk::off;
    const bool comes_on = s.state && s.state->risk != PowerOnRisk::off;
    std::string line = fmt::format("relay {} ({}): {}", r.id, drivers::mqtt::protocol_name(r.protocol),
                                   drivers::mqtt::power_on_words(s));
    if (!stays_off) line += "; " + drivers::mqtt::power_on_fix(r);
    out.push_back((comes_on ? "warning: " : stays_off ? "" : "note: ") + line);
  }
  return out;
}

int cmd_relays(const std::vector<std::string>& argv) {
  const char* help =
      "usage: shackd relays power-on-off [--config FILE] [--relay ID[,ID...]] [--yes] [--wait-s N]\n"
      "  Sets each relay that can be set over MQTT (Tasmota: PowerOnState 0; Shelly Gen2+: initial_state\n"
      "  off) to stay OFF when its power comes back, so that no load starts by itself after a power cut,\n"
      "  then asks each again and prints what it now says. Says what it will change and asks first\n"
      "  (--yes: without asking). A Tasmota's PowerOnState holds for every relay of that device.\n"
      "  Shelly Gen1 and ESPHome cannot be set over MQTT: it says what to set by hand.\n"
      "  --relay ID,...  only these relays (default: every relay of the config)\n"
      "  --wait-s N      how long to wait for the devices' answers (default 10)\n"
      "  Exit 0 when every relay it can set says OFF, 69 when one did not answer or refused, 64 on a\n"
      "  usage error, 78 for a config error.\n";
  if (argv.empty() || std::find(argv.begin(), argv.end(), "--help") != argv.end()) {
    fmt::print(argv.empty() ? stderr : stdout, "{}", help);
    return argv.empty() ? kExUsage : kExOk;
  }
  std::string path;
  std::vector<std::string> ids;
  bool yes = false;
  std::chrono::milliseconds wait{10000};
  try {
    if (argv[0] != "power-on-off") throw UsageError("shackd relays: unknown subcommand '" + argv[0] + "' (see --help)");
    const Args a = parse_args("shackd relays power-on-off", {argv.begin() + 1, argv.end()},
                              {"--config", "--relay", "--wait-s"}, {"--yes"});
    path = a.get("--config", "/etc/shackd/shackd.yaml");
    yes = a.has("--yes");
    wait = std::chrono::seconds(a.get_int("--wait-s", 10, 1, 300));
    std::stringstream list(a.get("--relay", ""));
    for (std::string id; std::getline(list, id, ',');) {
      if (!id.empty()) ids.push_back(id);
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  }
  const ConfigResult c = load_config(path);
  if (!c.config) {
    for (const auto& e : c.errors) fmt::print(stderr, "{}\n", e);
    return kExConfig;
  }
  const Config& cfg = *c.config;
  for (const auto& id : ids) {
    if (std::none_of(cfg.relays.begin(), cfg.relays.end(), [&](const RelayConfig& r) { return r.id == id; })) {
      fmt::print(stderr, "shackd relays power-on-off: --relay '{}': no such relay in {}\n",
                 drivers::text::clean_utf8(id, 60), path);
      return kExUsage;
    }
  }
  // What they say now, and what would change: the owner decides with that in front of them.
  const PowerOnSurvey now = survey_power_on(cfg, ids, false, wait);
  if (!now.broker_reached) {
    fmt::print(stderr, "shackd relays power-on-off: the broker {} did not answer ({})\n", cfg.mqtt.uri,
               now.broker_failure.empty() ? "no answer within 5 s" : now.broker_failure);
    return kExUnavailable;
  }
  std::vector<std::string> to_set;
  for (const auto& [id, s] : now.relays) {
    // (A named copy: clang 14 cannot capture a structured binding.)
    const auto configured = std::find_if(cfg.relays.begin(), cfg.relays.end(), [&, relay_id = id](const RelayConfig& x) {
      return x.id == relay_id;
    });
    if (configured == cfg.relays.end()) continue;  // asked only of configured relays: not reached
    const auto& r = *configured;
    fmt::print("relay {} ({}): {}\n", id, drivers::mqtt::protocol_name(r.protocol), drivers::mqtt::power_on_words(s));
    if (!s.unreadable.empty()) continue;
    if (s.state && s.state->risk == PowerOnRisk::off) continue;
    to_set.push_back(id);
    fmt::print("  will set: {} = {}{}\n", r.protocol == drivers::mqtt::RelayProtocol::tasmota ? "PowerOnState" : "initial_state",
               drivers::mqtt::power_on_off_setting(r),
               r.protocol == drivers::mqtt::RelayProtocol::tasmota ? " (for every relay of this device)" : "");
  }
  if (to_set.empty()) {
    fmt::print("nothing to set: every relay that can be set already stays OFF after a power cut\n");
    return kExOk;
  }
  if (!yes) {
    if (!isatty(STDIN_FILENO)) {
      fmt::print(stderr, "shackd relays power-on-off: not asked on a terminal: run it again with --yes to set them\n");
      return kExUsage;
    }
    fmt::print("set {} relay(s) to stay OFF after a power cut? type yes: ", to_set.size());
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes") {
      fmt::print("nothing changed\n");
      return kExOk;
    }
  }
  const PowerOnSurvey after = survey_power_on(cfg, to_set, true, wait);
  bool all = after.broker_reached;
  for (const auto& id : to_set) {
    const auto it = after.relays.find(id);
    const bool off = it != after.relays.end() && it->second.state && it->second.state->risk == PowerOnRisk::off;
    all = all && off;
    fmt::print("relay {}: {}\n", id,
               off ? "confirmed: " + drivers::mqtt::power_on_words(it->second)
                   : "NOT confirmed: " + (it == after.relays.end() ? std::string("the broker did not answer")
                                                                    : drivers::mqtt::power_on_words(it->second)));
  }
  return all ? kExOk : kExUnavailable;
}

}  // namespace shackd

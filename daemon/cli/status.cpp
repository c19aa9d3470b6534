#include "daemon/cli/status.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include "daemon/cli/cli_args.hpp"
#include "daemon/cli/relay_power_on.hpp"
#include "daemon/config/config.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/store/load_state_rows.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/shadow_rows.hpp"
#include "daemon/system/host_health.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/text/json_in.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

namespace {

// A member of a JSON object, or null. Every message read here is whatever a client left retained
// on the broker, and operator[] of a const json with a missing key is undefined behaviour
// (nlohmann's documentation): a `shackd status` on a health without "uplink" crashed on it.
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json none;
  if (!j.is_object()) return none;
  const auto it = j.find(key);
  return it == j.end() ? none : *it;
}

}  // namespace

std::string miner_status_words(const std::string& payload) {
  const auto m = drivers::text::parse_peer_json(payload);
  if (!m.is_object()) return {};
  const auto num = [&](const char* k) { return m.contains(k) && m[k].is_number() ? std::optional(m[k].get<double>()) : std::nullopt; };
  const auto text = [&](const char* k) { return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string(); };
  std::string line = text("state").empty() ? "?" : text("state");
  if (const auto w = num("power_w")) line += fmt::format(", {:.0f} W", *w);
  if (const auto t = num("target_w")) line += fmt::format(" (target {:.0f} W)", *t);
  if (const auto h = num("hashrate_ths")) line += fmt::format(", {:.1f} TH/s", *h);
  if (const auto hot = num("max_temp_c")) {
    line += fmt::format(", hottest {:.0f} °C", *hot);
    if (const auto lim = num("temp_limit_c")) line += fmt::format(" (limit {:.0f} °C)", *lim);
  }
  if (const auto f = num("fan_rpm")) line += fmt::format(", fan {:.0f} rpm", *f);
  if (!text("firmware").empty()) line += ", " + text("firmware");
  return line;
}

int cmd_status(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print("usage: shackd status [--config FILE]\n"
               "  What is on, why and since when, and the health of each device: from the broker's retained\n"
               "  topics (as shackd last published them) and the database. Changes nothing.\n");
    return kExOk;
  }
  std::string path;
  try {
    path = parse_args("shackd status", argv, {"--config"}, {}).get("--config", "/etc/shackd/shackd.yaml");
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
  std::map<std::string, LoadStateRow> rows;
  std::vector<LoadRef> loads;
  std::string site_tz;
  try {
    db::Db db(cfg.database_path, {.read_only = true});
    rows = RuntimeStore(db).load_states();
    const StoredProfiles p = load_profiles(db);
    site_tz = p.site.timezone;
    const std::set<std::string> defined = relay_ids(cfg);
    loads = load_refs(p, &defined);
  } catch (const std::exception& e) {
    fmt::print(stderr, "database: {}\n", e.what());
  }
  // Shadow mode's spells of the last 24 hours (issue 60), on their own: a database from before
  // schema 0016 has none, and says nothing here.
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<ShadowRow> spells, candidate_spells;  // a candidate's (schema 0017) likewise
  try {
    db::Db db(cfg.database_path, {.read_only = true});
    const std::int64_t day_ago_ms = now_ms - std::int64_t{24} * 3600 * 1000;
    if (db.table_exists("shadow_disagreements")) spells = load_shadow_rows(db, day_ago_ms, 10000);
    if (db.table_exists("candidate_differences")) candidate_spells = load_shadow_rows(db, day_ago_ms, 10000, true);
  } catch (const std::exception& e) {
    fmt::print(stderr, "database: shadow_disagreements: {}\n", e.what());
  }

  // The retained topics, as shackd last published them.
  std::map<std::string, std::string> retained;
  bool broker_reached = false;
  std::string broker_failure;
  try {
    drivers::mqtt::Client client(side_client_config(cfg.mqtt, "cli"));
    client.subscribe(cfg.mqtt.prefix + "/#");
    client.start();
    // Retained messages come right after the subscription, as one burst (a live message reaches
    // a subscriber with its retain flag cleared, MQTT 3.1.1 section 3.3.1.3): listen until the
    // burst has been quiet for half a second, or 2 s without any, at most 5 s in all. A
    // fixed second after the connection, as before, printed part of the status on a loaded
    // machine (no device or controller lines: a CI run's host_health, beside two compilers).
    using namespace std::chrono_literals;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    auto until = deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (!broker_reached && client.connected()) {
        broker_reached = true;
        until = std::min(deadline, std::chrono::steady_clock::now() + 2s);
      }
      const auto e = client.poll(std::chrono::milliseconds(20));
      if (e && e->kind == drivers::mqtt::Event::Kind::message && e->retained) {
        retained[e->topic] = e->payload;
        until = std::min(deadline, std::chrono::steady_clock::now() + 500ms);
      }
      if (e && e->kind == drivers::mqtt::Event::Kind::connect_failed) {
        broker_failure = e->payload;
        // A refusal is final for this run; an unreachable broker gets the rest of the 5 s.
        if (broker_failure.find("CONNACK") != std::string::npos) break;
      }
    }
    client.shutdown(std::chrono::milliseconds(500));
  } catch (const std::exception& e) {
    broker_failure = e.what();
  }
  if (!broker_reached) {
    fmt::print(stderr, "shackd status: cannot read shackd's status from the broker {}: {}\n", cfg.mqtt.uri,
               broker_failure.empty() ? "no answer within 5 s" : broker_failure);
  }
  const std::string& p = cfg.mqtt.prefix;
  const auto topic = [&](const std::string& t) { return retained.count(p + t) ? retained[p + t] : std::string(); };
  fmt::print("shackd: {}\n", topic("/status").empty() ? "no status on the broker (not running, or no broker)" : topic("/status"));
  // Shadow mode (issue 60): said first, and loudly: this shackd commands nothing.
  const bool shadow = member(drivers::text::parse_peer_json(topic("/shadow")), "shadow") == true;
  if (shadow) {
    fmt::print("mode: SHADOW: shackd switches nothing; \"wanted\" is what it would command, \"relay\" what the site "
               "did\n");
  }
  // A candidate profile beside the one in force (issue 60, part 2).
  const auto candidate = drivers::text::parse_peer_json(topic("/candidate"));
  const bool candidate_runs = member(candidate, "candidate") == true;
  if (candidate_runs) {
    const auto& set = member(candidate, "set");
    fmt::print("candidate: {} is decided beside the profiles in force; nothing of it is switched\n",
               set.is_string() ? drivers::text::clean_utf8(set.get<std::string>(), 500) : std::string("?"));
  }
  if (const auto st = drivers::text::parse_peer_json(topic("/state")); st.is_object()) {
    fmt::print("battery {} V from {} ({} s old), SOC ~{} % (estimated), band {}\n", st.value("battery_v", nlohmann::json()).dump(),
               st.value("voltage_source", "?"), st.value("battery_v_age_s", nlohmann::json()).dump(),
               st.value("soc_pct_estimated", nlohmann::json()).dump(), st.value("band", "?"));
    fmt::print("PV {} W, load {} W{}\n", member(member(st, "pv_w"), "value").dump(),
               member(member(st, "load_w"), "value").dump(),
               st.value("block_charging", false) ? ", CHARGING BLOCKED" : "");
  }
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  // The site's timezone from the database, for the times shown.
  if (!site_tz.empty()) {
    setenv("TZ", site_tz.c_str(), 1);
    tzset();
  }
  // The id too: it is what a topic takes (shack/load/<id>/mode/set) and what the log names.
  std::size_t id_w = 2;
  for (const auto& l : loads) id_w = std::max(id_w, l.id.size());
  fmt::print("\n{:<22} {:<{}} {:<7} {:<8} {:<6} {:<21} {}\n", "load", "id", id_w, "wanted", "relay", "mode", "since", "why");
  for (const auto& l : loads) {
    const std::string base = "/load/" + l.id;
    std::string why = "-";
    if (const auto r = drivers::text::parse_peer_json(topic(base + "/reason")); r.is_object()) why = r.value("text", "-");
    const auto row = rows.find(l.state_key);
    // Times in the site's timezone, as the log shows them; an override with how long it has left.
    std::string since = "-", mode = topic(base + "/mode").empty() ? "?" : topic(base + "/mode");
    if (row != rows.end()) {
      if (row->second.since) {
        if (const auto t = parse_iso_utc(*row->second.since)) since = local_iso(*t).substr(0, 19);
      }
      if (row->second.override_mode != "auto") {
        mode = row->second.override_mode;
        const auto until = row->second.override_until ? parse_iso_utc(*row->second.override_until) : std::nullopt;
        if (until && *until > now_s) {
          why = fmt::format("override {} for {} more min; {}", mode, (*until - now_s + 59) / 60, why);
        } else if (!until) {
          why = fmt::format("override {} until cleared; {}", mode, why);
        }
      }
    }
    fmt::print("{:<22} {:<{}} {:<7} {:<8} {:<6} {:<21} {}\n", l.name, l.id, id_w,
               topic(base + "/state").empty() ? "?" : topic(base + "/state"),
               topic(base + "/observed").empty() ? "?" : topic(base + "/observed"), mode, since, why);
  }
  // Where the shadow disagrees with the site, or the candidate with the profiles in force, as each
  // last said it (<prefix>/shadow/<id>, <prefix>/candidate/<id>).
  const auto text_of = [](const nlohmann::json& j, std::size_t max) {
    return j.is_string() ? drivers::text::clean_utf8(j.get<std::string>(), max) : std::string("?");
  };
  for (const auto& l : loads) {
    for (const bool cand : {false, true}) {
      if (!(cand ? candidate_runs : shadow)) continue;
      const auto s = drivers::text::parse_peer_json(topic((cand ? "/candidate/" : "/shadow/") + l.id));
      if (member(s, "agree") != false) continue;
      const auto& since = member(s, "since");
      fmt::print(fmt::runtime(cand ? "candidate: {} {}, in force {} since {} ({})\n"
                                   : "shadow: {} would be {}, the site has it {} since {} ({})\n"),
                 l.name, text_of(member(s, cand ? "candidate" : "would"), 8), text_of(member(s, cand ? "in_force" : "actual"), 8),
                 since.is_number_integer() ? local_iso(since.get<std::int64_t>()).substr(0, 19) : std::string("?"),
                 text_of(member(member(s, "reason"), "text"), 200));
    }
  }
  // The last 24 hours' disagreements by load: how often, how long each way.
  for (const bool cand : {false, true}) {
    for (const auto& l : loads) {
      int n = 0;
      double would_on_min = 0, would_off_min = 0;
      for (const auto& r : cand ? candidate_spells : spells) {
        if (r.load_id != l.id) continue;
        ++n;
        const std::int64_t from = std::max(r.start_ms, now_ms - std::int64_t{24} * 3600 * 1000);
        const double minutes = static_cast<double>(std::max<std::int64_t>(0, r.end_ms.value_or(now_ms) - from)) / 60000.0;
        (r.would_on ? would_on_min : would_off_min) += minutes;
      }
      if (n == 0) continue;
      fmt::print(fmt::runtime(cand ? "candidate, last 24 h: {}: {} difference(s), {:.1f} min: ON where in force OFF {:.1f} min, OFF where "
                        "in force ON {:.1f} min\n"
                      : "shadow, last 24 h: {}: {} disagreement(s), {:.1f} min: would be ON while OFF {:.1f} min, would be OFF "
                        "while ON {:.1f} min\n"),
                 l.name, n, would_on_min + would_off_min, would_on_min, would_off_min);
    }
  }
  // A relay that would switch its load back ON by itself after a power cut (its PowerOnState, its
  // initial_state), before shackd is even up: a warning with the fix.
  for (const auto& l : loads) {
    for (const auto& line : power_on_status_lines(l.name, l.id, topic("/load/" + l.id + "/power_on"))) {
      fmt::print("{}\n", line);
    }
  }
  // What each miner with an API says of itself, as it last said it (retained: a miner whose
  // power is cut says nothing new).
  for (const auto& l : loads) {
    const std::string words = miner_status_words(topic("/load/" + l.id + "/miner"));
    if (!words.empty()) fmt::print("miner {}: {}\n", l.name, words);
  }
  // What each load used today, as shackd last published it (once a minute).
  std::vector<std::string> energy;
  std::string energy_day;
  for (const auto& l : loads) {
    const auto e = drivers::text::parse_peer_json(topic("/load/" + l.id + "/energy"));
    if (!e.is_object() || !e.contains("on_h") || !e["on_h"].is_number()) continue;
    energy_day = e.value("day", "");
    const double on_h = e["on_h"].get<double>();
    if (e.contains("today_kwh") && e["today_kwh"].is_number()) {
      energy.push_back(fmt::format("{} {:.2f} kWh ({}, {:.1f} h on)", l.name, e["today_kwh"].get<double>(),
                                   e.value("basis", "?"), on_h));
    } else if (on_h > 0) {
      energy.push_back(fmt::format("{} {:.1f} h on (no meter, no rating)", l.name, on_h));
    }
  }
  if (!energy.empty()) fmt::print("energy today ({}): {}\n", energy_day, fmt::join(energy, ", "));
  // The site's own flows today (measured; "?" while nothing was).
  std::vector<std::string> flows;
  for (const auto& [flow, words] : {std::pair{"pv", "solar"}, std::pair{"battery_in", "battery charged"},
                                    std::pair{"battery_out", "battery discharged"}}) {
    const auto e = drivers::text::parse_peer_json(topic(std::string("/energy/") + flow));
    if (!e.is_object() || !e.contains("today_kwh")) continue;
    energy_day = e.value("day", energy_day);
    flows.push_back(e["today_kwh"].is_number() ? fmt::format("{} {:.2f} kWh", words, e["today_kwh"].get<double>())
                                               : fmt::format("{} ? (not measured)", words));
  }
  if (!flows.empty()) fmt::print("site today ({}): {}\n", energy_day, fmt::join(flows, ", "));
  // Health is as shackd last published it: with shackd stopped it is history, not "connected now".
  const bool running = topic("/status") == "online";
  for (const auto& device : devices::modbus_devices(cfg)) {  // the devices the config enables
    const std::string& dev = device.name;
    const auto h = drivers::text::parse_peer_json(topic("/device/" + dev + "/health"));
    if (!h.is_object()) continue;
    if (!running) {
      fmt::print("device {}: unknown (shackd is not running; its last report was {})\n", dev,
                 h.value("connected", false) ? "connected" : "DISCONNECTED");
      continue;
    }
    fmt::print("device {}: {}, last success {} s ago, {} failure(s) in a row{}\n", dev,
               h.value("connected", false) ? "connected" : "DISCONNECTED", h.value("last_success_age_s", nlohmann::json()).dump(),
               h.value("consecutive_failures", 0),
               h.value("last_error", std::string()).empty() ? "" : ", last error: " + h.value("last_error", std::string()));
  }
  // The controller's own health (a Raspberry Pi's supply, clock, temperature and storage).
  for (const auto& line : host_status_lines(topic("/host"))) {
    fmt::print("{}{}\n", line, running ? "" : " (shackd is not running: its last report)");
  }
  // The bridge to the central broker (the uplink), as the site broker last told shackd.
  if (const auto h = drivers::text::parse_peer_json(topic("/health")); member(h, "uplink").is_object()) {
    for (const auto& [bridge, b] : member(h, "uplink").items()) {
      if (!b.is_object()) continue;
      // Read as any client could have left it retained: a field of another type is shown as "?".
      const auto& connected = member(b, "connected");
      const auto& since = member(b, "since");
      const auto& changes = member(b, "changes");
      fmt::print("uplink {}: {} since {} ({} change(s) since shackd started){}\n", drivers::text::clean_utf8(bridge, 64),
                 connected.is_boolean() ? (connected.get<bool>() ? "connected" : "NOT CONNECTED") : "?",
                 since.is_string() ? drivers::text::clean_utf8(since.get<std::string>(), 40) : "?",
                 changes.is_number_unsigned() ? std::to_string(changes.get<std::uint64_t>()) : "?",
                 running ? "" : " (shackd is not running: its last report)");
    }
  }
  // The devices' own alarms and states (a BMS's limit, a charger's state, inverter faults).
  if (const auto da = drivers::text::parse_peer_json(topic("/device_alarms")); da.is_object()) {
    const auto& alarms = member(da, "alarms");
    if (!alarms.is_array() || alarms.empty()) fmt::print("device alarms: none\n");
    for (const auto& a : alarms.is_array() ? alarms : nlohmann::json::array()) {
      fmt::print("device {} {}: {} {}\n", a.value("level", "alarm") == "warning" ? "WARNING" : "ALARM",
                 a.value("device", "?"), a.value("id", "?"), a.value("text", ""));
    }
    std::string states;
    if (member(da, "states").is_object()) {
      for (const auto& [id, value] : member(da, "states").items()) {
        states += fmt::format("{}{} {}", states.empty() ? "" : ", ", id,
                              value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    if (!states.empty()) fmt::print("device states: {}\n", states);
  }
  // Scripts and monitoring read the exit code: no broker, no status.
  return broker_reached ? kExOk : kExUnavailable;
}

}  // namespace shackd

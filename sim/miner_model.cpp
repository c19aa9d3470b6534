#include "sim/miner_model.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "drivers/miners/http_exchange.hpp"
#include "drivers/miners/whatsminer.hpp"

namespace sim {

using json = nlohmann::json;

void MinerModel::advance(double dt_s, bool relay_on) {
  if (!relay_on) {
    powered = false;
    since_power_s = 0;
    ramp = 0;
    session_.clear();
    // LuxOS keeps its sleep across a power cut (docs.luxor.tech curtail); btminer starts anew.
    if (!kind || !kind->sleep_survives_power_cycle) asleep = false;
    // Whatsminer's power percent is "not saved ..., info lost after reboot" (apidoc.whatsminer.com);
    // Braiins OS and LuxOS keep their targets.
    if (kind && !kind->target_persists) target_w = 0;
    winding_s = 0;
    return;
  }
  powered = true;
  since_power_s += dt_s;
  winding_s = std::max(0.0, winding_s - dt_s);
  if (since_power_s < boot_s || (asleep && !ignores_sleep)) {
    ramp = 0;
    level_w = booting_w;
    return;
  }
  // Up at the pace of a full ramp (boot to nominal in ramp_s), down at once unless
  // down_w_per_s says otherwise: a miner takes minutes to tune up to a raised target and (the
  // simulator assumes) sheds power within seconds. A target runs it anywhere in its firmware's
  // range, above its stock draw too (Braiins' tuner overclocks).
  const double goal_w = target_w > 0 && !ignores_target ? std::clamp(target_w, booting_w, std::max(nominal_w, max_target_w))
                                                        : nominal_w;
  const double from_w = std::max(level_w, booting_w);
  if (goal_w >= from_w) {
    level_w = std::min(goal_w, from_w + dt_s * up_w_per_s());
  } else {
    const double down = down_rate_w_per_s();
    level_w = down > 0 ? std::max(goal_w, from_w - dt_s * down) : goal_w;
  }
  ramp = nominal_w > booting_w ? (level_w - booting_w) / (nominal_w - booting_w) : 1.0;
}

// A Whatsminer's percent in normal mode moves over percent_ramp_s for its whole range, both ways
// (a boot's ramp, before any target, at the ordinary pace).
double MinerModel::up_w_per_s() const {
  const bool percent = kind && kind->target_percent && target_w > 0;
  return (nominal_w - booting_w) / (percent ? std::max(percent_ramp_s, 1.0) : ramp_s);
}

double MinerModel::down_rate_w_per_s() const {
  if (kind && kind->target_percent && target_w > 0) return (nominal_w - booting_w) / std::max(percent_ramp_s, 1.0);
  return down_w_per_s;
}

void MinerModel::take_target(double w, const std::string& how) {
  target_w = w;
  ++target_writes;
  last_target_command = how;
}

double MinerModel::draw_w() const {
  if (!powered) return 0;
  if (since_power_s < boot_s) return booting_w;
  if (asleep && !ignores_sleep) {
    return sleep_w + (wind_down_s > 0 ? (sleep_from_w - sleep_w) * winding_s / wind_down_s : 0);
  }
  return booting_w + ramp * (nominal_w - booting_w);
}

void MinerModel::fall_asleep() {
  if (!asleep) {
    sleep_from_w = draw_w();
    winding_s = wind_down_s;
  }
  asleep = true;
  ramp = 0;
  level_w = booting_w;
  ++sleeps;
}

double MinerModel::chip_c() const {
  const bool hashing = !asleep || ignores_sleep;
  return 40 + 35 * (hashing ? std::min(ramp, 1.0) : 0) + extra_c;
}

std::string MinerModel::handle(const std::string& request) {
  if (!api_up()) throw std::runtime_error("connect: refused");
  if (!kind) throw std::runtime_error("no kind");
  switch (kind->framing) {
    case drivers::miners::MinerKind::Framing::length_le32: return whatsminer(request);
    case drivers::miners::MinerKind::Framing::http: return braiins(request);
    case drivers::miners::MinerKind::Framing::json_object: return whatsminer_v2(request);
    case drivers::miners::MinerKind::Framing::nul_or_close: break;
  }
  return luxos(request);
}

namespace {
json status(const char* code, int n, const std::string& msg) {
  return json::array({{{"STATUS", code}, {"Code", n}, {"Msg", msg}, {"Description", "LUXminer 2026.11.1-sim"}}});
}
}  // namespace

// The replies' shapes as docs.luxor.tech shows them (docs/protocols.md §5.1).
std::string MinerModel::luxos(const std::string& request) {
  const json req = json::parse(request, nullptr, false);
  if (req.is_discarded() || !req.contains("command")) return json{{"STATUS", status("E", 14, "Invalid command")}}.dump();
  const std::string cmd = req["command"].get<std::string>();
  const std::string param = req.value("parameter", std::string());
  const std::string sid = param.substr(0, param.find(','));
  const std::string arg = param.find(',') == std::string::npos ? "" : param.substr(param.find(',') + 1);
  json r;
  const bool hashing = !asleep || ignores_sleep;
  if (cmd == "version") {
    r = {{"STATUS", status("S", 22, "CGMiner versions")}, {"VERSION", json::array({{{"LUXminer", "2026.11.1-sim"}}})}};
  } else if (cmd == "power") {
    r = {{"STATUS", status("S", 0, "Power")}, {"POWER", json::array({{{"Watts", std::lround(draw_w())}, {"PSU", false}}})}};
  } else if (cmd == "summary") {
    r = {{"STATUS", status("S", 11, "Summary")}, {"SUMMARY", json::array({{{"GHS 5s", hashing ? ramp * hashrate_ths * 1000 : 0.0}}})}};
  } else if (cmd == "temps") {
    const double t = chip_c();
    r = {{"STATUS", status("S", 0, "Temps")},
         {"TEMPS", json::array({{{"ID", 0}, {"TopLeft", t}, {"TopRight", t + 1}, {"BottomLeft", t - 2}, {"BottomRight", t}}})}};
  } else if (cmd == "tempctrl") {
    r = {{"STATUS", status("S", 0, "Tempctrl")},
         {"TEMPCTRL", json::array({{{"Target", hot_c - 15}, {"Hot", hot_c}, {"Dangerous", hot_c + 10}}})}};
  } else if (cmd == "fans") {
    r = {{"STATUS", status("S", 0, "Fans")}, {"FANS", json::array({{{"ID", 0}, {"RPM", hashing ? 2000 + 3000 * ramp : 0}}})}};
  } else if (cmd == "config") {
    r = {{"STATUS", status("S", 33, "CGMiner config")},
         {"CONFIG", json::array({{{"CurtailMode", asleep ? "Sleep" : "None"}, {"IsPowerSupplyOn", !asleep}}})}};
  } else if (cmd == "atm") {
    // docs.luxor.tech luxminer/atm: PowerLimit, PowerMin and PowerTarget only on a model in a
    // power-targeting mode (Code 339, "ATM configuration values").
    json a = {{"Enabled", false}, {"MaxProfile", "default"}, {"MinProfile", ""}, {"StartupMinutes", 5},
              {"PostRampMinutes", 5}, {"TempWindow", 8.0}, {"ChipTempWindow", 8.0}, {"WaterInletTempWindow", 3.0}};
    if (power_targeting) {
      a["PowerLimit"] = std::lround(max_target_w);
      a["PowerMin"] = std::lround(min_target_w);
      a["PowerTarget"] = std::lround(target_w > 0 ? target_w : std::min(nominal_w, max_target_w));
    }
    r = {{"STATUS", status("S", 339, "ATM configuration values")}, {"ATM", json::array({a})}};
  } else if (cmd == "powertargetset") {
    // "<session id>,power=<watts>" (three clients; one records LUXminer 2026.4.3 refusing bare
    // watts with "Invalid key/value format": Jacob101mcd/antminer-chip-tuner). Luxor's page for
    // it is not public: the success reply here (Code 350, "Power target set") is ours.
    if (session_.empty() || sid != session_) {
      ++refused;
      return json{{"STATUS", status("E", 403, "Invalid session id")}}.dump();
    }
    if (!power_targeting) return json{{"STATUS", status("E", 14, "Power targeting is not supported on this model")}}.dump();
    if (!arg.starts_with("power=")) return json{{"STATUS", status("E", 14, "Invalid key/value format")}}.dump();
    std::size_t used = 0;
    long long w = -1;
    try {
      w = std::stoll(arg.substr(6), &used);
    } catch (const std::exception&) {
    }
    if (used == 0 || used != arg.size() - 6 || w < std::lround(min_target_w) || w > std::lround(max_target_w)) {
      return json{{"STATUS", status("E", 14, "Invalid power target")}}.dump();
    }
    take_target(static_cast<double>(w), "powertargetset " + arg);
    r = {{"STATUS", status("S", 350, "Power target set")}};
  } else if (cmd == "logon") {
    if (!session_.empty()) return json{{"STATUS", status("E", 402, "Another session is active")}}.dump();
    session_ = "sim" + std::to_string(sleeps + wakes + 1);
    r = {{"STATUS", status("S", 316, "Session created")}, {"SESSION", json::array({{{"SessionID", session_}}})}};
  } else if (cmd == "session") {
    r = {{"STATUS", status("S", 319, "Session")}, {"SESSION", json::array({{{"SessionID", session_}}})}};
  } else if (cmd == "logoff") {
    if (sid != session_) return json{{"STATUS", status("E", 403, "Invalid session id")}}.dump();
    session_.clear();
    r = {{"STATUS", status("S", 317, "Session terminated")}};
  } else if (cmd == "curtail") {
    if (session_.empty() || sid != session_) {
      ++refused;
      return json{{"STATUS", status("E", 403, "Invalid session id")}}.dump();
    }
    if (arg == "sleep") {
      fall_asleep();
    } else if (arg == "wakeup") {
      asleep = false;
      ++wakes;
    } else {
      return json{{"STATUS", status("E", 14, "Invalid parameter")}}.dump();
    }
    r = {{"STATUS", status("S", 335, "Curtailment command sent")},
         {"CURTAIL", json::array({{{"Action", arg == "sleep" ? "sleep mode" : "wake up"}}})}};
  } else {
    return json{{"STATUS", status("E", 14, "Invalid command")}}.dump();
  }
  r["id"] = 1;
  return r.dump();
}

// Whatsminer API v3's shapes (docs/protocols.md §5.2).
std::string MinerModel::whatsminer(const std::string& request) {
  const json req = json::parse(request, nullptr, false);
  if (req.is_discarded() || !req.contains("cmd")) return json{{"code", -1}, {"msg", "invalid json"}}.dump();
  const std::string cmd = req["cmd"].get<std::string>();
  const std::string param = req.contains("param") && req["param"].is_string() ? req["param"].get<std::string>() : "";
  const bool hashing = !asleep || ignores_sleep;
  const std::string salt = "BQ5hoXV9";
  if (cmd == "get.miner.status" && param == "summary") {
    return json{{"code", 0}, {"msg", {{"summary", {{"power-realtime", std::lround(draw_w())},
                                                    {"hash-realtime", hashing ? ramp * hashrate_ths : 0.0},
                                                    {"power-limit", std::lround(nominal_w)},
                                                    {"fan-speed-in", 2000 + 3000 * ramp},
                                                    {"fan-speed-out", 2100 + 3000 * ramp}}}}}}
        .dump();
  }
  if (cmd == "get.miner.status" && param == "edevs") {
    const double t = chip_c();
    return json{{"code", 0}, {"msg", {{"edevs", json::array({{{"chip-temp-max", t}}, {{"chip-temp-max", t + 2}}})}}}}.dump();
  }
  if (cmd == "get.device.info" && param == "salt") return json{{"code", 0}, {"msg", {{"salt", salt}}}}.dump();
  if (cmd == "get.device.info") return json{{"code", 0}, {"msg", {{"miner", {{"working", hashing ? "true" : "false"}}}}}}.dump();
  if (cmd == "set.miner.service") {
    const long long ts = req.value("ts", 0LL);
    if (req.value("account", std::string()) != "super" ||
        req.value("token", std::string()) != drivers::miners::whatsminer_token(cmd, password, salt, ts)) {
      ++refused;
      return json{{"code", -4}, {"msg", "invalid token"}}.dump();
    }
    if (param == "stop") {
      fall_asleep();
    } else if (param == "start") {
      asleep = false;
      ++wakes;
    } else {
      return json{{"code", -1}, {"msg", "invalid param"}}.dump();
    }
    return json{{"code", 0}, {"msg", "ok"}}.dump();
  }
  if (cmd == "set.miner.power_percent") {
    // apidoc.whatsminer.com set.miner.power_percent: param {"percent", "mode": "fast"|"normal"},
    // 0-100 % of its power, not encrypted, signed as any write. The percent is read as a string
    // (whatsminer-mdk-worker: "Firmware reads cJSON.valuestring even though its docs say
    // Number"): a number is refused here as an invalid item (-3).
    const long long ts = req.value("ts", 0LL);
    if (req.value("account", std::string()) != "super" ||
        req.value("token", std::string()) != drivers::miners::whatsminer_token(cmd, password, salt, ts)) {
      ++refused;
      return json{{"code", -4}, {"msg", "invalid token"}}.dump();
    }
    const json& p = req.contains("param") ? req["param"] : json();
    if (!p.is_object() || !p.contains("percent") || !p["percent"].is_string() || !p.contains("mode") ||
        !p["mode"].is_string() || (p["mode"] != "normal" && p["mode"] != "fast")) {
      return json{{"code", -3}, {"msg", "invalid json item"}}.dump();
    }
    const std::string pct = p["percent"].get<std::string>();
    if (pct.empty() || pct.size() > 3 || pct.find_first_not_of("0123456789") != std::string::npos || std::stoi(pct) > 100) {
      return json{{"code", -3}, {"msg", "invalid json item"}}.dump();
    }
    take_target(nominal_w * std::stoi(pct) / 100.0, "set.miner.power_percent " + pct + " " + p["mode"].get<std::string>());
    return json{{"code", 0}, {"msg", "ok"}}.dump();
  }
  return json{{"code", -1}, {"msg", "invalid command"}}.dump();
}

// Braiins OS's REST shapes (Public REST API v1.7.0; docs/protocols.md §8.3), in the HTTP
// envelope of drivers/miners/http_exchange.hpp.
std::string MinerModel::braiins(const std::string& request) {
  using drivers::miners::encode;
  using drivers::miners::HttpReply;
  const auto q = drivers::miners::decode_request(request);
  const auto reply = [](int code, const json& body) { return encode(HttpReply{code, body.dump()}); };
  const std::string token = "sim-token-1";
  if (q.method == "POST" && q.path == "/api/v1/auth/login") {
    const json b = json::parse(q.body, nullptr, false);
    if (b.is_discarded() || b.value("username", std::string()) != "root" || b.value("password", std::string()) != password) {
      ++refused;
      return reply(401, {{"message", "Invalid credentials"}});
    }
    return reply(200, {{"token", token}, {"timeout_s", 3600}});
  }
  if (q.token != token) {
    ++refused;
    return reply(401, {{"message", "Unauthorized"}});
  }
  const bool hashing = !asleep || ignores_sleep;
  if (q.method == "GET" && q.path == "/api/v1/miner/details") {
    const json detailed = hashing ? json{{"running", {{"reason", {{"normal", json::object()}}}}}}
                                  : json{{"stopped", {{"reason", {{"user_pause", json::object()}}}}}};
    return reply(200, {{"uid", "sim"},
                       {"hostname", "sim-braiins"},
                       {"status", hashing ? 2 : 3},
                       {"bos_version", {{"current", "26.08.1-sim"}, {"major", "26.08"}, {"bos_plus", true}}},
                       {"detailed_status", {{"status", detailed}}}});
  }
  if (q.method == "GET" && q.path == "/api/v1/miner/stats") {
    return reply(200, {{"power_stats", {{"approximated_consumption", {{"watt", std::lround(draw_w())}}}}},
                       {"miner_stats",
                        {{"real_hashrate", {{"last_5s", {{"gigahash_per_second", hashing ? ramp * hashrate_ths * 1000 : 0.0}}}}}}}});
  }
  if (q.method == "GET" && q.path == "/api/v1/cooling/state") {
    const double t = chip_c();
    return reply(200, {{"fans", json::array({{{"position", 0}, {"rpm", std::lround(2000 + 3000 * ramp)}}})},
                       {"highest_temperature", {{"location", 1}, {"temperature", {{"degree_c", t}}}}}});
  }
  if (q.method == "GET" && q.path == "/api/v1/performance/mode") {
    const double w = target_w > 0 ? target_w : nominal_w;
    return reply(200, {{"tunermode", {{"target", {{"powertarget", {{"power_target", {{"watt", std::lround(w)}}}}}}}}}});
  }
  if (q.method == "GET" && q.path == "/api/v1/configuration/miner") {
    const auto deg = [](double c) { return json{{"degree_c", c}}; };
    return reply(200, {{"pool_groups", json::array()},
                       {"temperature", {{"mode", {{"auto", {{"target_temperature", deg(hot_c - 15)},
                                                           {"hot_temperature", deg(hot_c)},
                                                           {"dangerous_temperature", deg(hot_c + 10)}}}}}}}});
  }
  if (q.method == "GET" && q.path == "/api/v1/configuration/constraints") {
    return reply(200, {{"tuner_constraints",
                        {{"default_mode", 1},
                         {"power_target", {{"min", {{"watt", std::lround(min_target_w)}}},
                                           {"default", {{"watt", std::lround(nominal_w)}}},
                                           {"max", {{"watt", std::lround(max_target_w)}}}}}}}});
  }
  if (q.method == "PUT" && (q.path == "/api/v1/actions/pause" || q.path == "/api/v1/actions/resume")) {
    const bool pause = q.path == "/api/v1/actions/pause";
    const bool already = pause == asleep;
    if (pause) {
      fall_asleep();
    } else {
      asleep = false;
      ++wakes;
    }
    return reply(200, already);
  }
  if (q.method == "PUT" && q.path == "/api/v1/performance/power-target") {
    const json b = json::parse(q.body, nullptr, false);
    if (b.is_discarded() || !b.contains("watt") || !b["watt"].is_number()) return reply(400, {{"message", "bad body"}});
    const double w = b["watt"].get<double>();
    if (w < min_target_w || w > max_target_w) return reply(400, {{"message", "power target out of range"}});
    take_target(w, "power-target " + std::to_string(std::lround(w)));
    return reply(200, {{"watt", std::lround(w)}});
  }
  return reply(404, {{"message", "Not Found"}});
}

}  // namespace sim

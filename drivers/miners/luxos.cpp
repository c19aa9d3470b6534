#include "drivers/miners/luxos.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "drivers/miners/cgminer_reply.hpp"

namespace drivers::miners {

namespace {

// SESSION[0].SessionID; empty when the reply has none. Looked up, never indexed: a logon that
// says S without a SESSION list (or with an empty one) was read with nlohmann's const operator[]
// on a missing key or past the list's end, which is undefined (an abort in a debug build).
std::string session_id(const nlohmann::json& reply) {
  const auto list = reply.find("SESSION");
  if (list == reply.end() || !list->is_array() || list->empty() || !list->front().is_object()) return "";
  const auto id = list->front().find("SessionID");
  return id != list->front().end() && id->is_string() ? id->get<std::string>() : "";
}

class Luxos final : public MinerApi {
 public:
  explicit Luxos(Exchange exchange) : exchange_(std::move(exchange)) {}

  Telemetry read() override {
    Telemetry t;
    try {
      if (firmware_.empty()) {
        // "Description": "LUXminer <version>" (docs.luxor.tech, cgminer/version).
        const auto v = call("version");
        firmware_ = miner_text(v["STATUS"][0].value("Description", std::string("LuxOS")), 64);
      }
      t.firmware = firmware_;
      // POWER[0].Watts (pyasic backends/luxminer.py reads it for the wattage).
      const auto p = call("power");
      if (p.contains("POWER") && p["POWER"].is_array() && !p["POWER"].empty()) t.power_w = number_at(p["POWER"][0], "Watts");
      // SUMMARY[0]["GHS 5s"], GH/s (pyasic reads it for the hashrate).
      const auto s = call("summary");
      if (s.contains("SUMMARY") && s["SUMMARY"].is_array() && !s["SUMMARY"].empty()) {
        if (const auto ghs = number_at(s["SUMMARY"][0], "GHS 5s")) t.hashrate_ths = *ghs / 1000.0;
      }
      // TEMPS[i]: S19/S21 boards TopLeft..BottomRight, S9 Board/Chip (docs.luxor.tech cgminer/temps).
      const auto temps = call("temps");
      if (temps.contains("TEMPS") && temps["TEMPS"].is_array()) {
        for (const auto& b : temps["TEMPS"]) {
          for (const char* k : {"TopLeft", "TopRight", "BottomLeft", "BottomRight", "Board", "Chip"}) {
            if (const auto c = number_at(b, k); c && *c > -50 && *c < 200) t.max_temp_c = std::max(t.max_temp_c.value_or(*c), *c);
          }
        }
      }
      // TEMPCTRL[0].Hot: the temperature its fans run at 100 % (tempctrl; Target, Hot and
      // Dangerous as pyasic config/temperature.py from_luxos reads them). A firmware without
      // tempctrl: the owner's overheat_c, if any, is the limit.
      t.hot_temp_c = hot_c_.get([&]() -> std::optional<double> {
        const auto tc = call("tempctrl");
        if (!tc.contains("TEMPCTRL") || !tc["TEMPCTRL"].is_array() || tc["TEMPCTRL"].empty()) return std::nullopt;
        const auto h = number_at(tc["TEMPCTRL"][0], "Hot");
        return h && *h > 20 && *h < 150 ? h : std::nullopt;
      });
      // FANS[i].RPM (pyasic backends/luxminer.py).
      const auto fans = call("fans");
      if (fans.contains("FANS") && fans["FANS"].is_array()) {
        for (const auto& f : fans["FANS"]) {
          if (const auto r = number_at(f, "RPM"); r && *r >= 0) t.fan_rpm = std::max(t.fan_rpm.value_or(*r), *r);
        }
      }
      // CONFIG[0].CurtailMode: "None" awake, "Sleep" asleep (third-party clients read it so; not on
      // a docs.luxor.tech page we could read: docs/protocols.md §5.1). Without it: hashing is mining.
      const auto c = call("config");
      std::string curtail;
      if (c.contains("CONFIG") && c["CONFIG"].is_array() && !c["CONFIG"].empty() && c["CONFIG"][0].is_object()) {
        curtail = c["CONFIG"][0].value("CurtailMode", std::string());
      }
      if (curtail == "Sleep") t.state = MinerState::sleeping;
      else if (t.hashrate_ths && *t.hashrate_ths > 0) t.state = MinerState::mining;
      // The target it runs to, read back from atm on a model in power-targeting mode.
      try {
        if (const auto r = atm_range()) t.power_target_w = r->default_w;
      } catch (const std::runtime_error&) {
        // An older firmware without atm: no target to read back.
      }
      t.answered = true;
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    return t;
  }

  CommandResult sleep() override { return session_call("curtail", "sleep"); }
  CommandResult wake() override { return session_call("curtail", "wakeup"); }

  // {"command":"atm"} → ATM[0].PowerMin, PowerTarget, PowerLimit: present only on a model running
  // in a power-targeting mode (docs.luxor.tech luxminer/atm, example LUXminer 2026.5.22).
  std::optional<PowerRange> power_range() override { return atm_range(); }

  // powertargetset "<session id>,power=<watts>", clamped to PowerMin..PowerLimit, read back from
  // atm. The command is in Luxor's atm page ("see powertargetset"); its parameter form is three
  // independent clients' (Jacob101mcd/antminer-chip-tuner tuner_app/miner/luxos.py, whose test
  // records LUXminer 2026.4.3 refusing bare watts with "Invalid key/value format";
  // stutrek/ha-integration-stealthminer api.py; DCentralTech/DCENT_OS luxos_rest_command.rs).
  // Its reply body is not documented: STATUS S is success (cgminer_reply.hpp).
  CommandResult set_power_target(double watts) override {
    std::optional<PowerRange> r;
    try {
      r = atm_range();
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
    if (!r) {
      return {false, "this model is not in a power-targeting mode: its atm reply has no PowerTarget, PowerMin or PowerLimit",
              true};
    }
    if (!(watts > 0) || !std::isfinite(watts)) return {false, "power target " + std::to_string(watts) + " W is not one to send"};
    const long long w = std::llround(std::clamp(watts, r->min_w, r->max_w));
    CommandResult result = session_call("powertargetset", "power=" + std::to_string(w));
    if (!result.ok) return result;
    result.detail = "power target " + std::to_string(w) + " W";
    try {
      if (const auto back = atm_range()) result.detail += fmt::format(" (reads back {:.0f} W)", back->default_w);
    } catch (const std::runtime_error&) {
    }
    return result;
  }

 private:
  nlohmann::json call(const std::string& command, const std::string& parameter = "") {
    nlohmann::json req = {{"command", command}};
    if (!parameter.empty()) req["parameter"] = parameter;
    return cgminer_reply(command, exchange_(req.dump()));
  }

  // PowerMin, PowerTarget (as default_w) and PowerLimit from atm; nullopt without them.
  std::optional<PowerRange> atm_range() {
    const auto a = call("atm");
    if (!a.contains("ATM") || !a["ATM"].is_array() || a["ATM"].empty()) return std::nullopt;
    const auto lo = number_at(a["ATM"][0], "PowerMin"), hi = number_at(a["ATM"][0], "PowerLimit");
    const auto at = number_at(a["ATM"][0], "PowerTarget");
    if (!lo || !hi || !at || !(*lo > 0) || !(*lo <= *hi) || *hi > 100000) return std::nullopt;
    return PowerRange{*lo, *at, *hi};
  }

  // Writes need a session: logon (SESSION[0].SessionID), or the one already open when another
  // client holds it (logon refuses with Code 402; `session` names the open one), then logoff.
  // The session id is the parameter's first field, the command's own after a comma.
  // docs.luxor.tech luxminer/sessions, logon, session, curtail; luxos-tooling asyncops.py.
  CommandResult session_call(const std::string& command, const std::string& action) {
    std::string sid;
    bool ours = false;
    try {
      try {
        sid = session_id(call("logon"));
        ours = true;
      } catch (const std::runtime_error&) {
        sid = session_id(call("session"));
      }
      if (sid.empty() || sid.find(',') != std::string::npos) return {false, command + " " + action + ": no session"};
      const auto r = call(command, sid + "," + action);
      const std::string msg = miner_text(r["STATUS"][0].value("Msg", std::string("sent")), 200);
      if (ours) {
        try {
          call("logoff", sid);
        } catch (const std::exception&) {
          // The session ends by itself after a minute unused (docs.luxor.tech sessions).
        }
      }
      return {true, msg};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }

  Exchange exchange_;
  std::string firmware_;
  Occasional hot_c_;
};

}  // namespace

std::unique_ptr<MinerApi> make_luxos(const MinerConfig&, Exchange exchange) {
  return std::make_unique<Luxos>(std::move(exchange));
}

}  // namespace drivers::miners

#include "drivers/miners/whatsminer.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "drivers/miners/cgminer_reply.hpp"
#include "drivers/miners/whatsminer_v2.hpp"
#include "drivers/text/json_in.hpp"

namespace drivers::miners {

std::string whatsminer_token(const std::string& cmd, const std::string& password, const std::string& salt, long long ts) {
  const std::string text = cmd + password + salt + std::to_string(ts);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char b64[64] = {};
  EVP_EncodeBlock(b64, digest, SHA256_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(b64), 8);
}

namespace {

class Whatsminer final : public MinerApi {
 public:
  Whatsminer(const MinerConfig& c, Exchange exchange)
      : exchange_(std::move(exchange)), account_(c.user.empty() ? "super" : c.user), password_(c.password), rated_w_(c.rated_w) {}

  Telemetry read() override {
    Telemetry t;
    try {
      // msg.summary: power-realtime (W), hash-realtime (TH/s), fan-speed-in/out (pyasic
      // backends/btminer.py BTMinerV3).
      const auto s = call("get.miner.status", "summary");
      const auto& sum = s["msg"].contains("summary") ? s["msg"]["summary"] : s["msg"];
      t.power_w = number_at(sum, "power-realtime");
      t.hashrate_ths = number_at(sum, "hash-realtime");
      for (const char* k : {"fan-speed-in", "fan-speed-out"}) {
        if (const auto r = number_at(sum, k)) t.fan_rpm = std::max(t.fan_rpm.value_or(*r), *r);
      }
      // msg.edevs[i]["chip-temp-max"].
      try {
        const auto e = call("get.miner.status", "edevs");
        if (e["msg"].contains("edevs") && e["msg"]["edevs"].is_array()) {
          for (const auto& b : e["msg"]["edevs"]) {
            if (const auto c = number_at(b, "chip-temp-max"); c && *c > -50 && *c < 200) {
              t.max_temp_c = std::max(t.max_temp_c.value_or(*c), *c);
            }
          }
        }
      } catch (const std::runtime_error&) {
        // Temperatures are extra: a firmware without edevs still reports power and state.
      }
      // msg.miner.working: whether btminer runs (get.device.info, matroskin's api-doc).
      const auto d = call("get.device.info", "miner");
      if (d["msg"].is_object() && d["msg"].contains("miner") && d["msg"]["miner"].is_object()) {
        // Looked up, not indexed: `d` is const, and nlohmann's const operator[] on a missing key
        // is undefined (an assert in a debug build). Without the key the state stays unknown.
        const auto& miner = d["msg"]["miner"];
        if (const auto w = miner.find("working"); w != miner.end()) {
          const bool working = w->is_boolean() ? w->get<bool>() : (w->is_string() && w->get<std::string>() == "true");
          t.state = working ? MinerState::mining : MinerState::sleeping;
        }
      }
      t.firmware = "Whatsminer API v3";
      t.answered = true;
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    return t;
  }

  // set.miner.service stop / start: btminer stops hashing, the miner stays up (pyasic
  // BTMinerV3.stop_mining / resume_mining).
  CommandResult sleep() override { return write("set.miner.service", "stop"); }
  CommandResult wake() override { return write("set.miner.service", "start"); }

  // set.miner.power_percent {"percent": "<0-100>", "mode": "normal"}: a percent of its rated
  // power, not saved ("not saved to user config file, info lost after reboot"), taking several
  // minutes in normal mode (apidoc.whatsminer.com set.miner.power_percent). The percent goes as a
  // string, as MicroBT's own client sends it ("Firmware reads cJSON.valuestring even though its
  // docs say Number": whatsminer-mdk-worker lib/whatsminer-api-v3-client.js), in a param object,
  // not encrypted (the vendor's example). Not set.miner.power_limit: it restarts the miner.
  CommandResult set_power_target(double watts) override {
    const auto pct = power_percent(watts, rated_w_);
    if (!pct) return {false, "no rated power to take a percent of (miners.<id>.target.rated_w)"};
    return write("set.miner.power_percent", nlohmann::json{{"percent", std::to_string(*pct)}, {"mode", "normal"}});
  }

  // Its power limit as it says it (msg.summary["power-limit"], apidoc get.miner.status; pyasic
  // reads it so), else what it draws: 0 to 100 % of it.
  std::optional<PowerRange> power_range() override {
    const auto s = call("get.miner.status", "summary");
    const auto& sum = s["msg"].contains("summary") ? s["msg"]["summary"] : s["msg"];
    auto rated = number_at(sum, "power-limit");
    if (!rated || !(*rated > 0) || *rated > 100000) rated = number_at(sum, "power-realtime");
    if (!rated || !(*rated > 0) || *rated > 100000) return std::nullopt;
    return PowerRange{0, *rated, *rated};
  }

 private:
  nlohmann::json call(const std::string& cmd, const std::string& param) {
    nlohmann::json req = {{"cmd", cmd}};
    if (!param.empty()) req["param"] = param;
    return checked(cmd, exchange_(req.dump()));
  }

  static nlohmann::json checked(const std::string& cmd, const std::string& text) {
    std::string why = "not an object";
    auto j = drivers::text::parse_peer_json(text, &why);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error(cmd + ": the reply is not a JSON object (" + why + ")");
    if (!j.contains("code") || !j["code"].is_number_integer() || j["code"].get<int>() != 0) {
      const std::string msg =
          j.contains("msg") ? miner_text(j["msg"].is_string() ? j["msg"].get<std::string>() : j["msg"].dump(), 200) : "?";
      throw std::runtime_error(cmd + ": refused: " + msg);
    }
    if (!j.contains("msg")) j["msg"] = nlohmann::json::object();
    return j;
  }

  CommandResult write(const std::string& cmd, const nlohmann::json& param) {
    try {
      if (password_.empty()) return {false, cmd + ": no password configured (writes need the miner's changed password)"};
      const auto info = call("get.device.info", "salt");
      const std::string salt = info["msg"].is_object() ? info["msg"].value("salt", std::string()) : std::string();
      if (salt.empty()) return {false, cmd + ": the miner gave no salt"};
      const long long ts = static_cast<long long>(std::time(nullptr));  // the miner checks it against its clock
      const nlohmann::json req = {{"cmd", cmd},         {"param", param}, {"ts", ts},
                                  {"account", account_}, {"token", whatsminer_token(cmd, password_, salt, ts)}};
      const auto r = checked(cmd, exchange_(req.dump()));
      return {true, r["msg"].is_string() ? miner_text(r["msg"].get<std::string>(), 200) : "ok"};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }

  Exchange exchange_;
  std::string account_, password_;
  double rated_w_;
};

}  // namespace

std::unique_ptr<MinerApi> make_whatsminer(const MinerConfig& config, Exchange exchange) {
  return std::make_unique<Whatsminer>(config, std::move(exchange));
}

}  // namespace drivers::miners

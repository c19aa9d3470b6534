// Whatsminer's btminer API v2 as the simulator's miner answers it (sim/miner_model.hpp): one bare
// JSON object each way on TCP 4028. Followed: MicroBT "Whatsminer API V1.3.8" (get_token §3.7,
// return codes §4, the encrypted envelope §4.1, set_power_pct §2.22), MicroBT's own client
// (whatsminer-mdk-worker lib/protocols/wm-api-v2.js: reads in a Msg envelope from API 2.0.5 on,
// plain error replies, PKCS#7), pyasic rpc/btminer.py (power_off respbefore, power_on,
// set_power_pct_v2 from 2.0.5, summary's fields). The replies' other fields are ours.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "drivers/miners/whatsminer_crypto.hpp"
#include "drivers/miners/whatsminer_v2.hpp"
#include "sim/miner_model.hpp"

namespace sim {

namespace {
using nlohmann::json;

json v2_error(int code, const std::string& msg) {
  return {{"STATUS", "E"}, {"When", 1700000000}, {"Code", code}, {"Msg", msg}, {"Description", ""}};
}
json v2_ok(int code, const json& msg) {
  return {{"STATUS", "S"}, {"When", 1700000000}, {"Code", code}, {"Msg", msg}, {"Description", ""}};
}
}  // namespace

std::string MinerModel::whatsminer_v2(const std::string& request) {
  const json req = json::parse(request, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return v2_error(23, "invalid json").dump();
  const bool hashing = !asleep || ignores_sleep;
  // A read: cgminer's STATUS list and section before API 2.0.5, the Msg envelope from it on.
  const auto read = [&](const char* key, const json& body) {
    if (v2_msg_reads) return v2_ok(131, body.is_array() && body.size() == 1 ? body[0] : body).dump();
    return json{{"STATUS", json::array({{{"STATUS", "S"}, {"When", 1700000000}, {"Code", 11}, {"Msg", key}, {"Description", "btminer"}}})},
                {key, body.is_array() ? body : json::array({body})},
                {"id", 1}}
        .dump();
  };
  if (req.contains("cmd") && req["cmd"].is_string()) {
    const std::string cmd = req["cmd"].get<std::string>();
    if (cmd == "summary") {
      return read("SUMMARY", json::array({{{"Elapsed", static_cast<long long>(since_power_s)},
                                           {"MHS 1m", hashing ? ramp * hashrate_ths * 1e6 : 0.0},
                                           {"Power", std::lround(draw_w())},
                                           {"Power Limit", std::lround(nominal_w)},
                                           {"Fan Speed In", std::lround(2000 + 3000 * ramp)},
                                           {"Fan Speed Out", std::lround(2100 + 3000 * ramp)},
                                           {"Power Mode", "Normal"}}}));
    }
    if (cmd == "devs") {
      const double t = chip_c();
      return read("DEVS", json::array({{{"ASC", 0}, {"Slot", 0}, {"Temperature", t - 10}, {"Chip Temp Max", t}},
                                       {{"ASC", 1}, {"Slot", 1}, {"Temperature", t - 9}, {"Chip Temp Max", t + 1}}}));
    }
    if (cmd == "status") return v2_ok(131, {{"mineroff", hashing ? "false" : "true"}, {"FirmwareVersion", "'20230911.22.REL'"}}).dump();
    if (cmd == "get_version") {
      return v2_ok(131, {{"api_ver", v2_api}, {"fw_ver", "20230911.22.REL"}, {"platform", "H6OS"}, {"chip", "K210"}}).dump();
    }
    if (cmd == "get_token") {
      // Code 134 per the document's table (its example prints 133).
      ++v2_tokens_;
      v2_time_ = std::to_string(1700000000 + v2_tokens_ * 37);
      v2_salt_ = "BQ5hoXV9";
      v2_newsalt_ = "jbzkfQls" + std::to_string(v2_tokens_ % 10);
      return v2_ok(134, {{"time", v2_time_}, {"salt", v2_salt_}, {"newsalt", v2_newsalt_}}).dump();
    }
    return v2_error(14, "invalid cmd").dump();
  }
  // A privileged command: {"enc": 1, "data": base64(AES-256-ECB(sha256(key), json))}.
  if (!req.contains("enc") || !req.contains("data") || !req["data"].is_string() || v2_time_.empty()) {
    return v2_error(23, "invalid json").dump();
  }
  const auto token = drivers::miners::whatsminer_v2_token(password, v2_salt_, v2_newsalt_, v2_time_);
  const auto plain = drivers::miners::aes_ecb_decrypt_b64(token.aes_key, req["data"].get<std::string>());
  const json cmd_json = plain ? json::parse(*plain, nullptr, false) : json();
  if (!plain || cmd_json.is_discarded() || !cmd_json.is_object()) {
    ++refused;
    return v2_error(23, "enc json load err").dump();  // a wrong password: the data does not decrypt
  }
  if (cmd_json.value("token", std::string()) != token.sign) {
    ++refused;
    return v2_error(135, "check token error").dump();
  }
  const std::string cmd = cmd_json.value("cmd", std::string());
  const auto answer = [&](const json& r) { return json{{"enc", drivers::miners::aes_ecb_encrypt_b64(token.aes_key, r.dump())}}.dump(); };
  if (cmd == "power_off") {
    fall_asleep();
    return answer(v2_ok(131, "API command OK"));
  }
  if (cmd == "power_on") {
    asleep = false;
    ++wakes;
    return answer(v2_ok(131, "API command OK"));
  }
  if (cmd == "set_power_pct" || cmd == "set_power_pct_v2") {
    if (cmd == "set_power_pct_v2" && !drivers::miners::api_at_least(v2_api, 2, 0, 5)) return answer(v2_error(14, "invalid cmd"));
    // "percent": "0".."100", a string (V1.3.8 §2.22; every client).
    const json& p = cmd_json.contains("percent") ? cmd_json["percent"] : json();
    const std::string pct = p.is_string() ? p.get<std::string>() : "";
    if (pct.empty() || pct.size() > 3 || pct.find_first_not_of("0123456789") != std::string::npos || std::stoi(pct) > 100) {
      return answer(v2_error(14, "invalid data"));
    }
    take_target(nominal_w * std::stoi(pct) / 100.0, cmd + " " + pct);
    if (v2_silent_power_writes) throw std::runtime_error("reply: timed out");  // applied, never answered
    return answer(v2_ok(131, "API command OK"));
  }
  return answer(v2_error(14, "invalid cmd"));
}

}  // namespace sim

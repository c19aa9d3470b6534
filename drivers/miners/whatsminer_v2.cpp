#include "drivers/miners/whatsminer_v2.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "drivers/miners/cgminer_reply.hpp"
#include "drivers/miners/whatsminer_crypto.hpp"
#include "drivers/text/json_in.hpp"

namespace drivers::miners {

namespace {

using nlohmann::json;

// What a return code means (MicroBT "Whatsminer API V1.3.8" §4; 136's per-IP limit since firmware
// 20230911 from MicroBT's own client, whatsminer-mdk-worker lib/protocols/wm-api-v2.js).
std::string code_words(int code) {
  switch (code) {
    case 14: return " (invalid command or data)";
    case 23: return " (invalid JSON)";
    case 45: return " (permission denied: WhatsminerTool must enable the API and the admin password be changed)";
    case 132: return " (command error)";
    case 135: return " (token check error)";
    case 136: return " (token asked too often: the miner limits get_token per address)";
    case 137: return " (base64 error)";
    default: return "";
  }
}

// A v2 reply: STATUS "S" as a string beside Code and Msg (writes, get_token, and reads from API
// 2.0.5 on), or as cgminer's list of one (older reads). Anything else throws with its Code and Msg.
json v2_reply(const std::string& cmd, const std::string& text) {
  std::string why = "not an object";
  json j = drivers::text::parse_peer_json(text, &why);
  if (j.is_discarded() || !j.is_object()) {
    throw std::runtime_error(cmd + ": the reply is not a JSON object (" + std::to_string(text.size()) + " bytes: " + why + ")");
  }
  const json* status = nullptr;
  if (const auto st = j.find("STATUS"); st != j.end() && st->is_string()) {
    status = &j;
  } else if (st != j.end() && st->is_array() && !st->empty() && (*st)[0].is_object()) {
    status = &(*st)[0];
  }
  if (!status) throw std::runtime_error(cmd + ": the reply has no STATUS");
  // Looked up, not indexed: nlohmann's const operator[] on a missing key is undefined (an assert
  // in a debug build), and a list's entry need not hold STATUS ({"STATUS":[{}]}).
  const auto code_it = status->find("STATUS");
  const std::string code_text = code_it != status->end() && code_it->is_string() ? code_it->get<std::string>() : "";
  if (code_text == "S" || code_text == "I") return j;
  const auto code = number_at(*status, "Code");
  const auto& m = status->contains("Msg") ? (*status)["Msg"] : json();
  const std::string msg = m.is_string() ? miner_text(m.get<std::string>(), 200) : (m.is_null() ? "no message" : miner_text(m.dump(), 200));
  // A code that is no int (3.5, 1e300) is shown as unknown: its cast would be undefined or wrong.
  const bool known = code && *code == std::trunc(*code) && std::abs(*code) <= 1e9;
  const int n = known ? static_cast<int>(*code) : 0;
  throw std::runtime_error(cmd + ": refused (Code " + (known ? std::to_string(n) : std::string("?")) + "): " + msg + code_words(n));
}

// A read's section: cgminer's SUMMARY[0] (DEVS: the whole list), or from API 2.0.5 on its Msg
// (MicroBT's client rebuilds the old key from Msg: wm-api-v2.js parseResponse).
json section(const json& j, const char* key) {
  if (const auto it = j.find(key); it != j.end() && it->is_array()) return *it;
  if (const auto it = j.find("Msg"); it != j.end() && (it->is_object() || it->is_array())) {
    return it->is_array() ? *it : json::array({*it});
  }
  return json::array();
}

class WhatsminerV2 final : public MinerApi {
 public:
  WhatsminerV2(const MinerConfig& c, Exchange exchange)
      : exchange_(std::move(exchange)), password_(c.password), rated_w_(c.rated_w) {}

  Telemetry read() override {
    Telemetry t;
    try {
      // SUMMARY[0]: Power (W, -1 when it has none), "MHS 1m" (MH/s), Fan Speed In/Out, Chip Temp
      // Max (pyasic backends/btminer.py BTMinerV2; whatsminer-mdk-worker getMinerStats). Not
      // "Power Limit": a percent write is judged by the power it draws.
      const json s = call("summary");
      // Its version once it answers at all: asked before the summary, a miner whose boot ended
      // between the two was read without it (CI, qemu: `shackd probe` printed no version), and a
      // write after that read would have chosen the older power command.
      if (!version_read_) read_version();
      const json sum = section(s, "SUMMARY");
      if (sum.empty() || !sum[0].is_object()) throw std::runtime_error("summary: no SUMMARY in the reply");
      const json& m = sum[0];
      if (const auto w = number_at(m, "Power"); w && *w >= 0 && *w < 100000) t.power_w = w;
      for (const char* k : {"MHS 1m", "MHS 5s", "MHS av"}) {
        if (const auto mhs = number_at(m, k); mhs && *mhs >= 0 && std::isfinite(*mhs)) {
          t.hashrate_ths = *mhs / 1e6;
          break;
        }
      }
      for (const char* k : {"Fan Speed In", "Fan Speed Out"}) {
        if (const auto r = number_at(m, k); r && *r >= 0 && *r < 100000) t.fan_rpm = std::max(t.fan_rpm.value_or(*r), *r);
      }
      const auto hotter = [&](const std::optional<double>& c) {
        if (c && *c > -50 && *c < 200) t.max_temp_c = std::max(t.max_temp_c.value_or(*c), *c);
      };
      hotter(number_at(m, "Chip Temp Max"));
      try {
        // DEVS[i]: Chip Temp Max, else the board's Temperature.
        for (const auto& b : section(call("devs"), "DEVS")) {
          const auto c = number_at(b, "Chip Temp Max");
          hotter(c ? c : number_at(b, "Temperature"));
        }
      } catch (const std::runtime_error&) {
        // Temperatures are extra: power and state are what a stop needs.
      }
      // status → Msg.mineroff "true" after power_off (pyasic BTMinerV2._is_mining); without it,
      // hashing is mining.
      std::string off;
      try {
        const json st = call("status");
        if (st.contains("Msg") && st["Msg"].is_object()) {
          const auto& o = st["Msg"].contains("mineroff") ? st["Msg"]["mineroff"] : json();
          off = o.is_string() ? o.get<std::string>() : (o.is_boolean() ? (o.get<bool>() ? "true" : "false") : "");
        }
      } catch (const std::runtime_error&) {
      }
      if (off == "true") t.state = MinerState::sleeping;
      else if (off == "false" || (t.hashrate_ths && *t.hashrate_ths > 0)) t.state = MinerState::mining;
      t.firmware = "Whatsminer API v2" + (api_ver_.empty() ? std::string() : " " + api_ver_) +
                   (fw_ver_.empty() ? std::string() : ", firmware " + fw_ver_);
      t.answered = true;
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    return t;
  }

  // power_off with respbefore: it answers, then stops hashing, the control board up; power_on
  // starts it again (pyasic BTMinerV2 stop_mining/resume_mining; whatsminer-mdk-worker).
  CommandResult sleep() override { return write("power_off", {{"respbefore", "true"}}); }
  CommandResult wake() override { return write("power_on", json::object()); }

  // The percent of its rated power: set_power_pct_v2 ("normal mode", API 2.0.5 on: pyasic's
  // api_min_version("2.0.5"); MicroBT's client sends only it), else set_power_pct (V1.3.8 §2.22).
  // Neither is saved (temporary). The percent is a string in the vendor's document and in every
  // client. Some firmwares apply a power write and never answer it (asic-rs PR #200): a write
  // whose reply does not come is taken as sent, and judged by the power it then draws
  // (daemon/miners/target_watch.hpp).
  CommandResult set_power_target(double watts) override {
    const auto pct = power_percent(watts, rated_w_);
    if (!pct) return {false, "no rated power to take a percent of (miners.<id>.target.rated_w)"};
    if (!version_read_) {
      try {
        read_version();
      } catch (const std::exception&) {
      }
    }
    const std::string cmd = api_at_least(api_ver_, 2, 0, 5) ? "set_power_pct_v2" : "set_power_pct";
    return write(cmd, {{"percent", std::to_string(*pct)}}, true);
  }

  // Its rated power as it says it (summary "Power Limit"; some units say 0: asic-rs PR #200),
  // else what it draws mining: 0 to 100 % of it.
  std::optional<PowerRange> power_range() override {
    const json sum = section(call("summary"), "SUMMARY");
    if (sum.empty()) return std::nullopt;
    auto rated = number_at(sum[0], "Power Limit");
    if (!rated || !(*rated > 0) || *rated > 100000) rated = number_at(sum[0], "Power");
    if (!rated || !(*rated > 0) || *rated > 100000) return std::nullopt;
    return PowerRange{0, *rated, *rated};
  }

 private:
  json call(const std::string& cmd) { return v2_reply(cmd, exchange_(json{{"cmd", cmd}}.dump())); }

  // get_version → Msg.api_ver ("2.0.5"), Msg.fw_ver (whatsminer-mdk-worker getVersion), once it
  // answers.
  void read_version() {
    std::string text;
    try {
      text = exchange_(json{{"cmd", "get_version"}}.dump());
    } catch (const std::exception&) {
      return;  // no answer (booting, unpowered): asked again at the next read
    }
    version_read_ = true;
    try {
      const json v = v2_reply("get_version", text);
      if (v.contains("Msg") && v["Msg"].is_object()) {
        const auto& msg = v["Msg"];
        for (const char* k : {"api_ver", "rpc_ver"}) {
          if (msg.contains(k) && msg[k].is_string()) {
            api_ver_ = miner_text(msg[k].get<std::string>(), 40);
            break;
          }
        }
        if (msg.contains("fw_ver") && msg["fw_ver"].is_string()) fw_ver_ = miner_text(msg["fw_ver"].get<std::string>(), 60);
      }
    } catch (const std::runtime_error&) {
      // An old firmware without get_version: set_power_pct, the older command, and no version.
    }
  }

  // get_token → Msg {time, salt, newsalt} (S3 §3.7; Code 134, or 131 on newer firmware: judged by
  // Msg's shape, as one client found on H616 firmware), kept 25 minutes of its 30.
  const V2Token& token() {
    const auto now = std::chrono::steady_clock::now();
    if (token_ && now - token_at_ < std::chrono::minutes(25)) return *token_;
    const json r = call("get_token");
    const json& m = r.contains("Msg") ? r["Msg"] : json();
    const auto text = [&](const char* k) { return m.is_object() && m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : ""; };
    const std::string time = text("time"), salt = text("salt"), newsalt = text("newsalt");
    if (time.empty() || salt.empty() || newsalt.empty() || time.size() > 64 || salt.size() > 64 || newsalt.size() > 64) {
      throw std::runtime_error("get_token: the reply has no time, salt and newsalt");
    }
    token_ = whatsminer_v2_token(password_, salt, newsalt, time);
    token_at_ = now;
    return *token_;
  }

  // A privileged command: its JSON with the token inside, AES-256-ECB and base64 in
  // {"enc":1,"data":...}; the reply {"enc":"..."} decrypted, or a plain error reply (S3 §4.1;
  // whatsminer-mdk-worker wm-api-v2.js). A token the miner no longer takes (135) is asked again once.
  CommandResult write(const std::string& cmd, const json& params, bool no_reply_is_sent = false) {
    if (password_.empty()) return {false, cmd + ": no password configured (writes need the miner's changed admin password)"};
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string request;
      std::string reply;
      AesKey key{};
      try {
        const V2Token& t = token();
        key = t.aes_key;
        json plain = params;
        plain["cmd"] = cmd;
        plain["token"] = t.sign;
        request = json{{"enc", 1}, {"data", aes_ecb_encrypt_b64(key, plain.dump())}}.dump();
      } catch (const std::exception& e) {
        return {false, e.what()};
      }
      try {
        reply = exchange_(request);
      } catch (const std::exception& e) {
        // Sent, and no reply came: judged by its draw. Only a failure while reading the reply
        // (socket_io.cpp's receive_some names it "reply"): a connect refused at once ("Network is
        // unreachable"), a send cut short or a stopping daemon never reached the miner, and taken
        // as sent it was recorded as a target taken, never sent again, and judged as ignored.
        const std::string what = e.what();
        if (no_reply_is_sent && what.starts_with("reply")) {
          return {true, cmd + ": sent, no reply (" + what + "): judged by the power it draws"};
        }
        return {false, what};
      }
      try {
        const json r = drivers::text::parse_peer_json(reply);
        std::string plain_reply = reply;
        if (r.is_object()) {
          for (const char* k : {"enc", "data"}) {
            if (r.contains(k) && r[k].is_string()) {
              const auto d = aes_ecb_decrypt_b64(key, r[k].get<std::string>());
              if (!d) return {false, cmd + ": the reply does not decrypt (a wrong password?)"};
              plain_reply = *d;
              break;
            }
          }
        }
        const json ok = v2_reply(cmd, plain_reply);
        const auto& msg = ok.contains("Msg") ? ok["Msg"] : json();
        return {true, msg.is_string() ? miner_text(msg.get<std::string>(), 200) : "ok"};
      } catch (const std::exception& e) {
        const std::string what = e.what();
        if (attempt == 0 && what.find("(Code 135)") != std::string::npos) {
          token_.reset();
          continue;
        }
        return {false, what};
      }
    }
    return {false, cmd + ": the token was refused twice"};
  }

  Exchange exchange_;
  std::string password_;
  double rated_w_;
  bool version_read_ = false;
  std::string api_ver_, fw_ver_;
  std::optional<V2Token> token_;
  std::chrono::steady_clock::time_point token_at_{};
};

}  // namespace

std::optional<int> power_percent(double watts, double rated_w) {
  if (!(watts > 0) || !(rated_w > 0) || !std::isfinite(watts) || !std::isfinite(rated_w)) return std::nullopt;
  return std::clamp(static_cast<int>(std::floor(watts / rated_w * 100 + 1e-9)), 1, 100);
}

bool api_at_least(const std::string& version, int major, int minor, int patch) {
  const auto first = version.find_first_of("0123456789");
  if (first == std::string::npos) return false;
  int parts[3] = {0, 0, 0};
  std::size_t at = first;
  for (int i = 0; i < 3 && at < version.size(); ++i) {
    int v = 0;
    std::size_t digits = 0;
    while (at < version.size() && version[at] >= '0' && version[at] <= '9' && digits < 6) {
      v = v * 10 + (version[at++] - '0');
      ++digits;
    }
    parts[i] = v;
    if (at >= version.size() || version[at] != '.') break;
    ++at;
  }
  const int want[3] = {major, minor, patch};
  for (int i = 0; i < 3; ++i) {
    if (parts[i] != want[i]) return parts[i] > want[i];
  }
  return true;
}

std::unique_ptr<MinerApi> make_whatsminer_v2(const MinerConfig& config, Exchange exchange) {
  return std::make_unique<WhatsminerV2>(config, std::move(exchange));
}

}  // namespace drivers::miners

// The power-target wire forms against the literal exchanges of their sources
// (/work/shared/reference/miner-power-target.md, docs/protocols.md §8): each client is given the
// replies the documents print, and what it sends is compared with the documents' requests.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "drivers/miners/cgminer_reply.hpp"
#include "drivers/miners/json_frame.hpp"
#include "drivers/miners/miner_kind.hpp"
#include "drivers/miners/whatsminer.hpp"
#include "drivers/miners/whatsminer_crypto.hpp"
#include "drivers/miners/whatsminer_v2.hpp"

using nlohmann::json;

namespace {

// A miner that answers from a script: each request is kept, and answered by the first rule whose
// test it passes.
struct Script {
  std::vector<std::string> sent;
  std::vector<std::pair<std::function<bool(const json&)>, std::function<std::string(const json&)>>> rules;
  drivers::miners::Exchange exchange() {
    return [this](const std::string& request) -> std::string {
      sent.push_back(request);
      const json q = json::parse(request);
      for (auto& [when, answer] : rules) {
        if (when(q)) return answer(q);
      }
      throw std::runtime_error("reply: timed out");
    };
  }
  void on(std::function<bool(const json&)> when, std::function<std::string(const json&)> answer) {
    rules.emplace_back(std::move(when), std::move(answer));
  }
  std::vector<json> commands(const std::string& key, const std::string& name) const {
    std::vector<json> out;
    for (const auto& s : sent) {
      const json q = json::parse(s);
      if (q.value(key, std::string()) == name) out.push_back(q);
    }
    return out;
  }
};

drivers::miners::MinerConfig config(const char* kind, const std::string& password = "", double rated_w = 0) {
  drivers::miners::MinerConfig c;
  c.kind = drivers::miners::find_miner_kind(kind);
  REQUIRE(c.kind);
  c.host = "192.0.2.7";
  c.password = password;
  c.rated_w = rated_w;
  return c;
}

// docs.luxor.tech luxminer/logon's reply, and luxminer/atm's two examples: a model in a
// power-targeting mode (LUXminer 2026.5.22) and one that is not (2026.3.17).
const char* kLogon =
    R"({"SESSION":[{"SessionID":"yJN2nlj1"}],"STATUS":[{"Code":316,"Description":"LUXminer 2026.5.22.201758-9e148a7ea","Msg":"Session created","STATUS":"S","When":1779709270}],"id":1})";
const char* kAtmTargeting =
    R"({"ATM":[{"ChipTempWindow":8.0,"Enabled":false,"MaxProfile":"default","MaxProfileStep":"0","MinProfile":"","MinProfileStep":"","PostRampMinutes":5,"PowerLimit":3500,"PowerMin":2800,"PowerTarget":3320,"StartupMinutes":5,"TempWindow":8.0,"WaterInletTempWindow":3.0}],"STATUS":[{"Code":339,"Description":"LUXminer 2026.5.22.201758-9e148a7ea","Msg":"ATM configuration values","STATUS":"S","When":1779709270}],"id":1})";
const char* kAtmProfiles =
    R"({"ATM":[{"ChipTempWindow":8.0,"Enabled":false,"MaxProfile":"default","MaxProfileStep":"0","MinProfile":"","PostRampMinutes":15,"StartupMinutes":15,"TempWindow":5.0,"WaterInletTempWindow":7.0}],"STATUS":[{"Code":339,"Description":"LUXminer 2026.3.17.214510-ec0d952a9","Msg":"ATM configuration values","STATUS":"S","When":1773855642}],"id":1})";

Script luxos(const char* atm) {
  Script s;
  s.on([](const json& q) { return q["command"] == "logon"; }, [](const json&) { return std::string(kLogon); });
  s.on([](const json& q) { return q["command"] == "atm"; }, [atm](const json&) { return std::string(atm); });
  // Luxor does not publish powertargetset's reply: a STATUS S of its usual shape.
  s.on([](const json& q) { return q["command"] == "powertargetset"; },
       [](const json&) { return std::string(R"({"STATUS":[{"Code":350,"Msg":"Power target set","STATUS":"S","When":1}],"id":1})"); });
  s.on([](const json& q) { return q["command"] == "logoff"; },
       [](const json&) { return std::string(R"({"STATUS":[{"Code":317,"Msg":"Session terminated","STATUS":"S","When":1}],"id":1})"); });
  return s;
}

}  // namespace

TEST_CASE("LuxOS: powertargetset carries the session id and power=<watts>, clamped to atm's PowerMin..PowerLimit") {
  Script s = luxos(kAtmTargeting);
  auto api = config("luxos").kind->make(config("luxos"), s.exchange());
  const auto range = api->power_range();
  REQUIRE(range);
  CHECK(range->min_w == 2800);
  CHECK(range->max_w == 3500);
  CHECK(range->default_w == 3320);
  const auto r = api->set_power_target(3300);
  CHECK(r.ok);
  CHECK(r.detail == "power target 3300 W (reads back 3320 W)");
  const auto sets = s.commands("command", "powertargetset");
  REQUIRE(sets.size() == 1);
  // The reference's literal request: {"command":"powertargetset","parameter":"yJN2nlj1,power=3300"}.
  CHECK(sets[0].dump() == R"({"command":"powertargetset","parameter":"yJN2nlj1,power=3300"})");
  CHECK(s.commands("command", "logoff").at(0)["parameter"] == "yJN2nlj1");
  CHECK(api->set_power_target(4200).ok);
  CHECK(s.commands("command", "powertargetset").back()["parameter"] == "yJN2nlj1,power=3500");
  CHECK(api->set_power_target(1000).ok);
  CHECK(s.commands("command", "powertargetset").back()["parameter"] == "yJN2nlj1,power=2800");
}

TEST_CASE("LuxOS: a model not in a power-targeting mode is told apart, for good; a refusal is a refusal") {
  Script s = luxos(kAtmProfiles);
  auto api = config("luxos").kind->make(config("luxos"), s.exchange());
  CHECK_FALSE(api->power_range());
  const auto r = api->set_power_target(3000);
  CHECK_FALSE(r.ok);
  CHECK(r.unsupported);
  CHECK(s.commands("command", "powertargetset").empty());
  // The bare-watts refusal S6 records from LUXminer 2026.4.3, as any STATUS E.
  Script e = luxos(kAtmTargeting);
  e.rules.insert(e.rules.begin(), {[](const json& q) { return q["command"] == "powertargetset"; }, [](const json&) {
                                     return std::string(R"({"STATUS":[{"Code":14,"Msg":"Invalid key/value format","STATUS":"E","When":1}],"id":1})");
                                   }});
  auto api2 = config("luxos").kind->make(config("luxos"), e.exchange());
  const auto r2 = api2->set_power_target(3000);
  CHECK_FALSE(r2.ok);
  CHECK_FALSE(r2.unsupported);
  CHECK(r2.detail.find("Invalid key/value format") != std::string::npos);
}

TEST_CASE("LuxOS: a logon that succeeds without a session id, or with an empty list, is no session (never read past)") {
  for (const char* logon : {R"({"STATUS":[{"Code":316,"Msg":"Session created","STATUS":"S"}],"id":1})",
                            R"({"SESSION":[],"STATUS":[{"STATUS":"S"}],"id":1})",
                            R"({"SESSION":[{"SessionID":7}],"STATUS":[{"STATUS":"S"}],"id":1})"}) {
    CAPTURE(logon);
    Script s = luxos(kAtmTargeting);
    s.rules.insert(s.rules.begin(), {[](const json& q) { return q["command"] == "logon"; },
                                     [logon](const json&) { return std::string(logon); }});
    auto api = config("luxos").kind->make(config("luxos"), s.exchange());
    const auto r = api->sleep();
    CHECK_FALSE(r.ok);
    CHECK(r.detail == "curtail sleep: no session");
    CHECK(s.commands("command", "curtail").empty());
  }
}

TEST_CASE("Whatsminer v3: set.miner.power_percent with a string percent in normal mode, signed like any write") {
  Script s;
  // apidoc.whatsminer.com's salt and power_percent replies.
  s.on([](const json& q) { return q["cmd"] == "get.device.info" && q.value("param", "") == "salt"; },
       [](const json&) { return std::string(R"({"code":0,"when":1692685496,"msg":{"salt":"px5hoXa9"},"desc":"get.device.info"})"); });
  s.on([](const json& q) { return q["cmd"] == "set.miner.power_percent"; },
       [](const json&) { return std::string(R"({"code":0,"when":1692685512,"msg":"ok","desc":"set.miner.power_percent"})"); });
  const auto c = config("whatsminer", "changed-pw", 3400);
  auto api = c.kind->make(c, s.exchange());
  const auto r = api->set_power_target(2720);  // 80 % of 3400 W
  CHECK(r.ok);
  const auto sent = s.commands("cmd", "set.miner.power_percent");
  REQUIRE(sent.size() == 1);
  const json& q = sent[0];
  CHECK(q["param"] == json({{"percent", "80"}, {"mode", "normal"}}));  // an object, the percent a string
  CHECK(q["account"] == "super");
  CHECK(q["token"] == drivers::miners::whatsminer_token("set.miner.power_percent", "changed-pw", "px5hoXa9", q["ts"].get<long long>()));
  CHECK(q["token"].get<std::string>().size() == 8);
  // Down onto a whole percent, never above what was asked: 2719 W is 79.97 %.
  CHECK(api->set_power_target(2719).ok);
  CHECK(s.commands("cmd", "set.miner.power_percent").back()["param"]["percent"] == "79");
  // The vendor's error codes refuse it.
  s.rules.insert(s.rules.begin(), {[](const json& q2) { return q2["cmd"] == "set.miner.power_percent"; },
                                   [](const json&) { return std::string(R"({"code":-4,"msg":"no permission"})"); }});
  const auto refused = api->set_power_target(2000);
  CHECK_FALSE(refused.ok);
  CHECK(refused.detail.find("no permission") != std::string::npos);
}

TEST_CASE("md5-crypt and AES-256-ECB as openssl computes them") {
  using drivers::miners::md5_crypt_hash;
  // `openssl passwd -1 -salt SALT PASSWORD` (OpenSSL 3.0.19): the field after the third '$'.
  CHECK(md5_crypt_hash("sim-secret", "BQ5hoXV9") == "4Ix9wIHbY5b/6PBB5DD7C.");
  CHECK(md5_crypt_hash("admin", "BQ5hoXV9") == "RxmaDUO33TS7O26yeMHZ81");
  CHECK(md5_crypt_hash("pw12345", "a") == "vmMUBKgs.zLjvRV9COEV11");
  CHECK(md5_crypt_hash("x", "abcdefghij") == "znAnv9M.XU2pRYfmSs46h/");  // the salt cut at 8
  CHECK(md5_crypt_hash("x", "$1$abcdefgh$") == "znAnv9M.XU2pRYfmSs46h/");  // as pyasic passes it
  CHECK(md5_crypt_hash("", "saltsalt") == "5Jhcit4zN9UlGiA0txPkO0");
  // A salt from a miner's reply that md5-crypt does not take (libxcrypt's crypt_rn refuses it):
  // said, never hashed some other way.
  CHECK_THROWS_WITH_AS(md5_crypt_hash("x", "a:b"),
                       "md5-crypt: libcrypt refused the salt 'a:b' (md5-crypt takes the characters ./0-9A-Za-z)",
                       std::runtime_error);
  // printf '%s' PLAIN | openssl enc -aes-256-ecb -K $(printf abc | sha256sum) -base64 -A
  const auto key = drivers::miners::sha256_key("abc");
  const std::string plain = R"({"cmd":"set_power_pct_v2","percent":"80","token":"x"})";
  const std::string wire = "K5P1fziAHgNJX3V9kTKDfLnYuQVzS/pcZBtvTO/b/39RiKB2cTTy6ZJqLZACSJux6x9tzb6MysnojLoF22UxvQ==";
  CHECK(drivers::miners::aes_ecb_encrypt_b64(key, plain) == wire);
  CHECK(drivers::miners::aes_ecb_decrypt_b64(key, wire) == plain);
  // Not base64, not whole blocks, the wrong key: nothing, never a throw.
  CHECK_FALSE(drivers::miners::aes_ecb_decrypt_b64(key, "not base64!"));
  CHECK_FALSE(drivers::miners::aes_ecb_decrypt_b64(key, "QUJD"));
  CHECK_FALSE(drivers::miners::aes_ecb_decrypt_b64(key, ""));
  // Padding past base64's two '=', or inside: nothing (128 of them ran the length below zero).
  for (const std::size_t n : {4, 64, 128, 256}) CHECK_FALSE(drivers::miners::aes_ecb_decrypt_b64(key, std::string(n, '=')));
  CHECK_FALSE(drivers::miners::aes_ecb_decrypt_b64(key, "QQ==" + wire));
  const auto other = drivers::miners::aes_ecb_decrypt_b64(drivers::miners::sha256_key("abd"), wire);
  CHECK((!other || *other != plain));
}

namespace {
// A Whatsminer v2 as its document and MicroBT's client show it: get_token's reply, and writes
// answered encrypted with the same key.
Script whatsminer_v2(const std::string& password, const std::string& api_ver, std::vector<json>& plaintexts) {
  Script s;
  s.on([](const json& q) { return q.value("cmd", "") == "get_token"; }, [](const json&) {
    return std::string(R"({"STATUS":"S","When":1594179175,"Code":134,"Msg":{"time":"1594179175","salt":"BQ5hoXV9","newsalt":"jbzkfQls"},"Description":""})");
  });
  s.on([](const json& q) { return q.value("cmd", "") == "get_version"; }, [api_ver](const json&) {
    return json{{"STATUS", "S"}, {"When", 1}, {"Code", 131}, {"Msg", {{"api_ver", api_ver}, {"fw_ver", "20230911.22.REL"}}}, {"Description", ""}}.dump();
  });
  s.on([](const json& q) { return q.contains("enc"); }, [password, &plaintexts](const json& q) {
    const auto t = drivers::miners::whatsminer_v2_token(password, "BQ5hoXV9", "jbzkfQls", "1594179175");
    const auto plain = drivers::miners::aes_ecb_decrypt_b64(t.aes_key, q["data"].get<std::string>());
    const json cmd = plain ? json::parse(*plain, nullptr, false) : json();
    if (!plain || cmd.is_discarded()) return std::string(R"({"STATUS":"E","When":1,"Code":23,"Msg":"enc json load err","Description":""})");
    plaintexts.push_back(cmd);
    const json ok = {{"STATUS", "S"}, {"When", 1}, {"Code", 131}, {"Msg", "API command OK"}, {"Description", ""}};
    return json{{"enc", drivers::miners::aes_ecb_encrypt_b64(t.aes_key, ok.dump())}}.dump();
  });
  return s;
}
}  // namespace

TEST_CASE("Whatsminer v2: the token, the encrypted envelope, set_power_pct_v2 from API 2.0.5 and set_power_pct before") {
  std::vector<json> plain;
  Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
  const auto c = config("whatsminer_v2", "changed-pw", 3400);
  auto api = c.kind->make(c, s.exchange());
  const auto r = api->set_power_target(2720);
  CHECK(r.ok);
  CHECK(r.detail == "API command OK");
  REQUIRE(plain.size() == 1);
  // The reference's plaintext: {"cmd":"set_power_pct_v2","percent":"80","token":"<sign>"}, the
  // sign from the last four characters of time (the document's rule).
  const std::string key = drivers::miners::md5_crypt_hash("changed-pw", "BQ5hoXV9");
  const std::string sign = drivers::miners::md5_crypt_hash(key + "9175", "jbzkfQls");
  CHECK(plain[0] == json({{"cmd", "set_power_pct_v2"}, {"percent", "80"}, {"token", sign}}));
  // On the wire: {"enc":1,"data":...} and nothing in the clear.
  const json& wire = json::parse(s.sent.back());
  CHECK(wire["enc"] == 1);
  CHECK(wire.size() == 2);
  CHECK(s.sent.back().find("set_power_pct") == std::string::npos);
  // Sleep and wake: power_off with respbefore, power_on; one token for all three (it lasts).
  CHECK(api->sleep().ok);
  CHECK(api->wake().ok);
  REQUIRE(plain.size() == 3);
  CHECK(plain[1] == json({{"cmd", "power_off"}, {"respbefore", "true"}, {"token", sign}}));
  CHECK(plain[2] == json({{"cmd", "power_on"}, {"token", sign}}));
  CHECK(s.commands("cmd", "get_token").size() == 1);

  std::vector<json> older;
  Script o = whatsminer_v2("changed-pw", "whatsminer v2.0.4", older);
  auto api_older = c.kind->make(c, o.exchange());
  CHECK(api_older->set_power_target(1700).ok);
  REQUIRE(older.size() == 1);
  CHECK(older[0]["cmd"] == "set_power_pct");
  CHECK(older[0]["percent"] == "50");
}

TEST_CASE("Whatsminer v2: plain error replies, a wrong password, a power write never answered") {
  std::vector<json> plain;
  const auto c = config("whatsminer_v2", "changed-pw", 3400);
  SUBCASE("a plain error reply (S3 §4: 45, permission denied) refuses with its meaning") {
    Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
    s.rules.insert(s.rules.begin(), {[](const json& q) { return q.contains("enc"); }, [](const json&) {
                                       return std::string(R"({"STATUS":"E","When":1,"Code":45,"Msg":"Permission denied","Description":""})");
                                     }});
    auto api = c.kind->make(c, s.exchange());
    const auto r = api->sleep();
    CHECK_FALSE(r.ok);
    CHECK(r.detail == "power_off: refused (Code 45): Permission denied (permission denied: WhatsminerTool must enable the API and the admin password be changed)");
  }
  SUBCASE("a wrong password: the miner cannot read the envelope") {
    Script s = whatsminer_v2("the-real-one", "2.0.5", plain);
    auto api = c.kind->make(c, s.exchange());
    const auto r = api->wake();
    CHECK_FALSE(r.ok);
    CHECK(r.detail.find("Code 23") != std::string::npos);
  }
  SUBCASE("an expired token (135) is asked again once") {
    Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
    int expired = 1;
    s.rules.insert(s.rules.begin(), {[&expired](const json& q) { return q.contains("enc") && expired-- > 0; }, [](const json&) {
                                       return std::string(R"({"STATUS":"E","When":1,"Code":135,"Msg":"check token error","Description":""})");
                                     }});
    auto api = c.kind->make(c, s.exchange());
    CHECK(api->sleep().ok);
    CHECK(s.commands("cmd", "get_token").size() == 2);
  }
  SUBCASE("a power write that is never answered is taken as sent (judged by the power it draws); a sleep is not") {
    Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
    s.rules.insert(s.rules.begin(), {[](const json& q) { return q.contains("enc"); },
                                     [](const json&) -> std::string { throw std::runtime_error("reply: timed out"); }});
    auto api = c.kind->make(c, s.exchange());
    const auto r = api->set_power_target(2000);
    CHECK(r.ok);
    CHECK(r.detail.find("no reply") != std::string::npos);
    CHECK_FALSE(api->sleep().ok);
  }
  SUBCASE("a power write that never left (connect refused at once, a send cut, a stop) is not sent") {
    // connect_to's own words for a connect that fails at once are strerror's, with no prefix.
    for (const char* why : {"Network is unreachable", "No route to host", "send: Broken pipe", "stopping",
                            "connect: Connection refused", "resolve miner.local: Name or service not known"}) {
      CAPTURE(why);
      Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
      const std::string words = why;
      s.rules.insert(s.rules.begin(), {[](const json& q) { return q.contains("enc"); },
                                       [words](const json&) -> std::string { throw std::runtime_error(words); }});
      auto api = c.kind->make(c, s.exchange());
      const auto r = api->set_power_target(2000);
      CHECK_FALSE(r.ok);
      CHECK(r.detail == words);
    }
  }
  SUBCASE("no password: no write is tried") {
    Script s = whatsminer_v2("changed-pw", "2.0.5", plain);
    auto nopw = config("whatsminer_v2", "", 3400);
    auto api = nopw.kind->make(nopw, s.exchange());
    CHECK_FALSE(api->sleep().ok);
    CHECK(s.sent.empty());
  }
}

TEST_CASE("Whatsminer v2: a STATUS list whose entry holds no STATUS is a refusal, never read past") {
  // nlohmann's const operator[] on a missing key is undefined behaviour (an assert in a debug
  // build: the daemon aborted on such a reply).
  const auto c = config("whatsminer_v2", "changed-pw", 3400);
  Script s;
  s.on([](const json& q) { return q.value("cmd", "") == "get_version"; },
       [](const json&) { return std::string(R"({"STATUS":[{"Code":14}]})"); });
  s.on([](const json& q) { return q.value("cmd", "") == "summary"; },
       [](const json&) { return std::string(R"({"STATUS":[{"Code":14,"Msg":"invalid cmd"}],"SUMMARY":[{"Power":3000}]})"); });
  s.on([](const json& q) { return q.value("cmd", "") == "get_token"; }, [](const json&) { return std::string(R"({"STATUS":[{}]})"); });
  auto api = c.kind->make(c, s.exchange());
  const auto t = api->read();
  CHECK_FALSE(t.answered);
  CHECK(t.error == "summary: refused (Code 14): invalid cmd (invalid command or data)");
  const auto r = api->sleep();
  CHECK_FALSE(r.ok);
  CHECK(r.detail == "get_token: refused (Code ?): no message");
}

TEST_CASE("hostile replies: nested too deep, a key missing, a STATUS of another type, a code past any int") {
  using drivers::miners::MinerState;
  SUBCASE("a v2 summary of 100,000 nested lists is refused, named, without a deep tree") {
    // nlohmann copies and dumps a value by recursion: at this depth the miner's thread overflowed
    // its stack at the first copy (drivers/text/json_in.hpp).
    Script s;
    const std::string deep = R"({"STATUS":"S","SUMMARY":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
    s.on([](const json& q) { return q.value("cmd", "") == "summary"; }, [&](const json&) { return deep; });
    const auto c = config("whatsminer_v2", "changed-pw", 3400);
    auto api = c.kind->make(c, s.exchange());
    const auto t = api->read();
    CHECK_FALSE(t.answered);
    CHECK(t.error == "summary: the reply is not a JSON object (200025 bytes: nested deeper than 32 levels)");
  }
  SUBCASE("Whatsminer v3: get.device.info without msg.miner.working leaves the state unknown") {
    Script s;
    s.on([](const json& q) { return q["cmd"] == "get.miner.status" && q.value("param", "") == "summary"; },
         [](const json&) { return std::string(R"({"code":0,"msg":{"summary":{"power-realtime":3100}}})"); });
    s.on([](const json& q) { return q["cmd"] == "get.miner.status"; }, [](const json&) { return std::string(R"({"code":0,"msg":{}})"); });
    s.on([](const json& q) { return q["cmd"] == "get.device.info"; }, [](const json&) { return std::string(R"({"code":0,"msg":{"miner":{}}})"); });
    const auto c = config("whatsminer", "changed-pw", 3400);
    auto api = c.kind->make(c, s.exchange());
    const auto t = api->read();
    REQUIRE(t.answered);
    CHECK(t.power_w == 3100);
    CHECK(t.state == MinerState::unknown);
  }
  SUBCASE("cgminer's STATUS as a number is a refusal (std::runtime_error), not nlohmann's type_error") {
    CHECK_THROWS_AS(drivers::miners::cgminer_reply("atm", R"({"STATUS":[{"STATUS":1}]})"), std::runtime_error);
    CHECK_THROWS_WITH(drivers::miners::cgminer_reply("atm", R"({"STATUS":[{"STATUS":1}]})"), "atm: refused (?): no message");
  }
  SUBCASE("a v2 Code that is no int, and numbers that are not finite, are no numbers") {
    for (const char* code : {R"("nan")", R"("inf")", "1e300", "3.5", R"("-1e12")"}) {
      CAPTURE(code);
      Script s;
      s.on([](const json& q) { return q.value("cmd", "") == "summary"; },
           [&](const json&) { return std::string(R"({"STATUS":"E","When":1,"Code":)") + code + R"(,"Msg":"no"})"; });
      const auto c = config("whatsminer_v2", "changed-pw", 3400);
      auto api = c.kind->make(c, s.exchange());
      const auto t = api->read();
      CHECK_FALSE(t.answered);
      CHECK(t.error == "summary: refused (Code ?): no");
    }
    CHECK_FALSE(drivers::miners::number_at(json::parse(R"({"p":"nan"})"), "p"));
    CHECK_FALSE(drivers::miners::number_at(json::parse(R"({"p":"-inf"})"), "p"));
    CHECK_FALSE(drivers::miners::number_at(json::parse(R"({"p":"1e400"})"), "p"));  // stod: out of range
    CHECK(drivers::miners::number_at(json::parse(R"({"p":"3100.5"})"), "p") == 3100.5);
  }
}

// A miner whose boot ends during a read: its first command is not answered, the rest are. The
// read that answers names its version (CI, qemu: `shackd probe` caught the boot's end between the
// version and the summary, and printed no version; a write after it would have used the older
// power command).
TEST_CASE("Whatsminer v2: the first read that answers names its version, whenever the boot ends") {
  Script s;
  bool up = false;
  s.on([&up](const json&) { return !std::exchange(up, true); }, [](const json&) -> std::string {
    throw std::runtime_error("connect: refused");  // the API not up yet: the first command
  });
  s.on([](const json& q) { return q.value("cmd", "") == "summary"; }, [](const json&) {
    return std::string(R"({"STATUS":"S","When":1,"Code":131,"Msg":{"Power":3312,"MHS 1m":98.2e6},"Description":""})");
  });
  s.on([](const json& q) { return q.value("cmd", "") == "get_version"; }, [](const json&) {
    return std::string(R"({"STATUS":"S","When":1,"Code":131,"Msg":{"api_ver":"2.0.5","fw_ver":"20230911.22.REL"},"Description":""})");
  });
  const auto c = config("whatsminer_v2", "changed-pw", 3400);
  auto api = c.kind->make(c, s.exchange());
  auto t = api->read();
  for (int i = 0; i < 3 && !t.answered; ++i) t = api->read();
  REQUIRE(t.answered);
  CHECK(t.firmware == "Whatsminer API v2 2.0.5, firmware 20230911.22.REL");
}

TEST_CASE("Whatsminer v2: telemetry from cgminer's lists and from API 2.0.5's Msg envelope") {
  const json summary = {{"Power", 3312}, {"Power Limit", 3400}, {"MHS 1m", 98.2e6}, {"Fan Speed In", 4200}, {"Fan Speed Out", 4410}};
  const json devs = json::array({{{"ASC", 0}, {"Chip Temp Max", 71.5}}, {{"ASC", 1}, {"Temperature", 66}}});
  for (const bool envelope : {false, true}) {
    CAPTURE(envelope);
    Script s;
    const auto read = [envelope](const char* key, const json& body) {
      if (envelope) return json{{"STATUS", "S"}, {"When", 1}, {"Code", 131}, {"Msg", body}, {"Description", ""}}.dump();
      return json{{"STATUS", json::array({{{"STATUS", "S"}, {"Msg", key}}})}, {key, body.is_array() ? body : json::array({body})}}.dump();
    };
    s.on([](const json& q) { return q.value("cmd", "") == "summary"; }, [&](const json&) { return read("SUMMARY", summary); });
    s.on([](const json& q) { return q.value("cmd", "") == "devs"; }, [&](const json&) { return read("DEVS", devs); });
    s.on([](const json& q) { return q.value("cmd", "") == "status"; }, [](const json&) {
      return std::string(R"({"STATUS":"S","When":1,"Code":131,"Msg":{"mineroff":"false"},"Description":""})");
    });
    s.on([](const json& q) { return q.value("cmd", "") == "get_version"; }, [](const json&) {
      return std::string(R"({"STATUS":"S","When":1,"Code":131,"Msg":{"api_ver":"2.0.5","fw_ver":"20230911.22.REL"},"Description":""})");
    });
    const auto c = config("whatsminer_v2", "changed-pw", 3400);
    auto api = c.kind->make(c, s.exchange());
    const auto t = api->read();
    REQUIRE(t.answered);
    CHECK(t.power_w == 3312);  // Power, not Power Limit
    CHECK(*t.hashrate_ths == doctest::Approx(98.2));
    CHECK(t.fan_rpm == 4410);
    CHECK(t.max_temp_c == 71.5);
    CHECK(t.state == drivers::miners::MinerState::mining);
    CHECK(t.firmware == "Whatsminer API v2 2.0.5, firmware 20230911.22.REL");
    const auto range = api->power_range();
    REQUIRE(range);
    CHECK(range->max_w == 3400);
  }
}

TEST_CASE("a bare JSON object's end, as a Whatsminer v2 reply is framed") {
  using drivers::miners::json_object_end;
  CHECK(json_object_end(R"({"a":1})") == 7);
  CHECK(json_object_end(R"(  {"a":"}{\"}"} trailing)") == 15);
  CHECK(json_object_end(R"({"a":{"b":[{}]}})") == 16);
  CHECK(json_object_end(R"({"a":"unterminated)") == std::string::npos);
  CHECK(json_object_end("") == std::string::npos);
  CHECK(json_object_end(std::string(20000, '{')) == std::string::npos);
  drivers::miners::JsonObjectEnd fed;
  std::string text = R"({"Msg":"a \"quoted\" }")";
  CHECK(fed.feed(text) == std::string::npos);
  text += "}";
  CHECK(fed.feed(text) == text.size());
}

TEST_CASE("the power percent and the API version") {
  using drivers::miners::api_at_least;
  using drivers::miners::power_percent;
  CHECK(power_percent(2720, 3400) == 80);
  CHECK(power_percent(2719, 3400) == 79);
  CHECK(power_percent(5000, 3400) == 100);
  CHECK(power_percent(10, 3400) == 1);
  CHECK_FALSE(power_percent(0, 3400));
  CHECK_FALSE(power_percent(2000, 0));
  CHECK_FALSE(power_percent(std::nan(""), 3400));
  CHECK(api_at_least("2.0.5", 2, 0, 5));
  CHECK(api_at_least("whatsminer v2.0.10", 2, 0, 5));
  CHECK(api_at_least("2.1", 2, 0, 5));
  CHECK_FALSE(api_at_least("2.0.4", 2, 0, 5));
  CHECK_FALSE(api_at_least("whatsminer v1.4.0", 2, 0, 5));
  CHECK_FALSE(api_at_least("", 2, 0, 5));
  CHECK_FALSE(api_at_least("v", 2, 0, 5));
}

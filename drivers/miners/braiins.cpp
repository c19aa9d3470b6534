#include "drivers/miners/braiins.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "drivers/miners/cgminer_reply.hpp"
#include "drivers/miners/http_exchange.hpp"
#include "drivers/text/json_in.hpp"

namespace drivers::miners {

// At namespace scope, not in the anonymous one: a unity batch declares it once per file.
using json = nlohmann::json;

namespace {


// A number at a path of keys ({"power_stats", "approximated_consumption", "watt"}).
std::optional<double> number_in(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* k : path) {
    if (!at->is_object() || !at->contains(k)) return std::nullopt;
    at = &(*at)[k];
  }
  if (!at->is_number()) return std::nullopt;
  const double v = at->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

class Braiins final : public MinerApi {
 public:
  Braiins(const MinerConfig& c, Exchange exchange)
      : exchange_(std::move(exchange)), user_(c.user.empty() ? "root" : c.user), password_(c.password) {}

  Telemetry read() override {
    Telemetry t;
    try {
      // MinerStatus: 1 not started, 2 normal, 3 paused, 4 suspended, 5 restricted
      // (bos-plus-api proto/bos/v1/miner.proto; REST GET /api/v1/miner/details).
      // detailed_status.status is one key: running, starting, stopping or stopped (stopped's
      // reason user_pause is our pause); the integer status (deprecated for it) where absent.
      const json details = call("GET", "/api/v1/miner/details");
      const json* detailed = details.contains("detailed_status") && details["detailed_status"].is_object() &&
                                     details["detailed_status"].contains("status") &&
                                     details["detailed_status"]["status"].is_object()
                                 ? &details["detailed_status"]["status"]
                                 : nullptr;
      if (detailed && detailed->contains("running")) {
        t.state = MinerState::mining;
      } else if (detailed && (detailed->contains("stopped") || detailed->contains("stopping"))) {
        t.state = MinerState::sleeping;
      } else if (const auto status = number_in(details, {"status"}); status && !detailed) {
        t.state = *status == 2 ? MinerState::mining : (*status == 3 ? MinerState::sleeping : MinerState::unknown);
      }
      if (details.contains("bos_version") && details["bos_version"].is_object()) {
        t.firmware = "Braiins OS " + miner_text(details["bos_version"].value("current", std::string("?")), 80);
      } else {
        t.firmware = "Braiins OS";
      }
      // power_stats.approximated_consumption.watt; miner_stats.real_hashrate.last_5s in GH/s
      // (REST GET /api/v1/miner/stats; miner.proto, work.proto, units.proto).
      const json stats = call("GET", "/api/v1/miner/stats");
      t.power_w = number_in(stats, {"power_stats", "approximated_consumption", "watt"});
      if (const auto ghs = number_in(stats, {"miner_stats", "real_hashrate", "last_5s", "gigahash_per_second"})) {
        t.hashrate_ths = *ghs / 1000.0;
      }
      try {
        // fans[].rpm and highest_temperature.temperature.degree_c (cooling.proto; REST GET
        // /api/v1/cooling/state).
        const json cooling = call("GET", "/api/v1/cooling/state");
        if (cooling.contains("fans") && cooling["fans"].is_array()) {
          for (const auto& f : cooling["fans"]) {
            if (const auto rpm = number_in(f, {"rpm"})) t.fan_rpm = std::max(t.fan_rpm.value_or(*rpm), *rpm);
          }
        }
        if (const auto c = number_in(cooling, {"highest_temperature", "temperature", "degree_c"}); c && *c > -50 && *c < 200) {
          t.max_temp_c = *c;
        }
      } catch (const std::runtime_error&) {
        // Cooling is extra: power and state are what a stop needs.
      }
      // Its cooling configuration's hot_temperature, whichever mode holds it (auto, manual,
      // immersion, hydro: REST GET /api/v1/configuration/miner, temperature.mode.<mode>; the
      // Braiins OS Public REST API 1.7.0 and bos-plus-api cooling.proto: "fans start to run at
      // 100 %"). Without it, the owner's overheat_c (if any) is the limit.
      t.hot_temp_c = hot_c_.get([&]() -> std::optional<double> {
        const json conf = call("GET", "/api/v1/configuration/miner");
        for (const char* mode : {"auto", "manual", "immersion", "hydro"}) {
          const auto h = number_in(conf, {"temperature", "mode", mode, "hot_temperature", "degree_c"});
          if (h && *h > 20 && *h < 150) return h;
        }
        return std::nullopt;
      });
      try {
        // The target it runs to: tunermode.target.powertarget.power_target.watt (REST GET
        // /api/v1/performance/mode).
        const json mode = call("GET", "/api/v1/performance/mode");
        t.power_target_w = number_in(mode, {"tunermode", "target", "powertarget", "power_target", "watt"});
      } catch (const std::runtime_error&) {
      }
      t.answered = true;
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    return t;
  }

  // PUT /api/v1/actions/pause | resume: the reply is whether it already was (Actions API).
  // Pause stops hashing with the control board up (actions.proto PauseMining).
  CommandResult sleep() override { return write("PUT", "/api/v1/actions/pause", ""); }
  CommandResult wake() override { return write("PUT", "/api/v1/actions/resume", ""); }

  // tuner_constraints.power_target.{min,default,max}.watt (REST GET
  // /api/v1/configuration/constraints).
  std::optional<PowerRange> power_range() override {
    const json c = call("GET", "/api/v1/configuration/constraints");
    const auto at = [&](const char* k) { return number_in(c, {"tuner_constraints", "power_target", k, "watt"}); };
    const auto lo = at("min"), def = at("default"), hi = at("max");
    if (!lo || !hi || !(*lo < *hi)) return std::nullopt;
    return PowerRange{*lo, def.value_or(*hi), *hi};
  }

  // PUT /api/v1/performance/power-target {"watt": N} → {"watt": N}. Every change is saved to the
  // miner's flash (SaveAction has no apply-only form): the rules limit how often.
  CommandResult set_power_target(double watts) override {
    if (!(watts > 0) || watts > 100000) return {false, "power target " + std::to_string(watts) + " W is not one to send"};
    const auto w = static_cast<long long>(std::lround(watts));
    return write("PUT", "/api/v1/performance/power-target", json{{"watt", w}}.dump());
  }

 private:
  // One call with the session's token, logging in first (and again once on a 401: a token
  // expires after timeout_s unused).
  json call(const std::string& method, const std::string& path, const std::string& body = "") {
    if (token_.empty()) login();
    HttpReply r = send(method, path, body);
    if (r.status == 401 || r.status == 403) {
      login();
      r = send(method, path, body);
    }
    if (r.status < 200 || r.status > 299) {
      throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(r.status) + ": " +
                               miner_text(r.body, 200));
    }
    if (r.body.empty()) return json::object();
    std::string why;
    json j = drivers::text::parse_peer_json(r.body, &why);
    if (j.is_discarded()) throw std::runtime_error(method + " " + path + ": the reply is " + why);
    return j;
  }

  HttpReply send(const std::string& method, const std::string& path, const std::string& body) {
    return decode_reply(exchange_(encode(HttpRequest{method, path, token_, body})));
  }

  // POST /api/v1/auth/login {username, password} → {token, timeout_s} (Authentication API).
  void login() {
    token_.clear();
    const HttpReply r = send("POST", "/api/v1/auth/login", json{{"username", user_}, {"password", password_}}.dump());
    if (r.status != 200) {
      throw std::runtime_error("login as " + user_ + ": HTTP " + std::to_string(r.status) +
                               (r.status == 401 || r.status == 403 ? " (wrong user or password?)" : "") + ": " +
                               miner_text(r.body, 120));
    }
    const json j = drivers::text::parse_peer_json(r.body);
    if (j.is_discarded() || !j.is_object() || !j.contains("token") || !j["token"].is_string()) {
      throw std::runtime_error("login as " + user_ + ": no token in the reply");
    }
    token_ = j["token"].get<std::string>();
    if (token_.size() > 4096 || token_.find_first_of("\r\n") != std::string::npos) {
      token_.clear();
      throw std::runtime_error("login as " + user_ + ": the token is not one to send back");
    }
  }

  CommandResult write(const std::string& method, const std::string& path, const std::string& body) {
    try {
      const json r = call(method, path, body);
      return {true, miner_text(r.dump(), 200)};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }

  Exchange exchange_;
  std::string user_, password_, token_;
  Occasional hot_c_;
};

}  // namespace

std::unique_ptr<MinerApi> make_braiins(const MinerConfig& config, Exchange exchange) {
  return std::make_unique<Braiins>(config, std::move(exchange));
}

}  // namespace drivers::miners

#include "daemon/vocab/miner_state.hpp"

#include <nlohmann/json.hpp>

namespace shackd {

std::string miner_state_json(const MinerStateFacts& m) {
  const auto& t = m.telemetry;
  nlohmann::json j = {{"state", std::string(drivers::miners::state_name(t.state))}, {"firmware", t.firmware}};
  const auto put = [&](const char* k, const std::optional<double>& v) { j[k] = v ? nlohmann::json(*v) : nlohmann::json(); };
  put("power_w", t.power_w);
  put("hashrate_ths", t.hashrate_ths);
  put("max_temp_c", t.max_temp_c);
  put("temp_limit_c", m.temp_limit_c);
  put("fan_rpm", t.fan_rpm);
  put("power_target_w", t.power_target_w);  // as the miner reports it
  put("target_w", m.target_w);              // as the rules want it
  j["target_reason"] = m.target_w ? rules::describe(m.target_reason) : std::string();
  return j.dump();
}

}  // namespace shackd

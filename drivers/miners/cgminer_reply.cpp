#include "drivers/miners/cgminer_reply.hpp"

#include <cmath>
#include <stdexcept>

#include "drivers/text/json_in.hpp"
#include "drivers/text/utf8.hpp"

namespace drivers::miners {

nlohmann::json cgminer_reply(const std::string& command, const std::string& text) {
  std::string why = "not an object";
  nlohmann::json j = drivers::text::parse_peer_json(text, &why);
  if (j.is_discarded() || !j.is_object()) {
    throw std::runtime_error(command + ": the reply is not a JSON object (" + std::to_string(text.size()) + " bytes: " + why + ")");
  }
  const auto st = j.find("STATUS");
  if (st == j.end() || !st->is_array() || st->empty() || !(*st)[0].is_object()) {
    throw std::runtime_error(command + ": the reply has no STATUS");
  }
  const auto& s = (*st)[0];
  // Not s.value("STATUS", ""): a STATUS of another type would throw nlohmann's type_error, which
  // callers that catch std::runtime_error for a refusal would not take.
  const auto code_it = s.find("STATUS");
  const std::string code = code_it != s.end() && code_it->is_string() ? code_it->get<std::string>() : "";
  if (code != "S" && code != "I") {
    const std::string msg = s.contains("Msg") && s["Msg"].is_string() ? miner_text(s["Msg"].get<std::string>(), 200) : "no message";
    throw std::runtime_error(command + ": refused (" + (code.empty() ? "?" : code) + "): " + msg);
  }
  return j;
}

std::string miner_text(std::string_view s, std::size_t max_bytes) {
  std::string out = text::clean_utf8(s, max_bytes);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::optional<double> number_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  // Finite or nothing: a string "nan" or "inf" (std::stod takes both) is no reading, and a cast
  // of one to an integer would be undefined. (nlohmann refuses a number past a double's range.)
  if (it->is_number()) {
    const double v = it->get<double>();
    return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
  }
  if (it->is_string()) {
    try {
      std::size_t used = 0;
      const std::string s = it->get<std::string>();
      const double v = std::stod(s, &used);
      if (used == s.size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

}  // namespace drivers::miners

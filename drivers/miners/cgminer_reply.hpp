#pragma once
// The cgminer-style reply that LuxOS (and Whatsminer's v2 API) send: a section per command and a
// STATUS list whose first entry's STATUS is "S" (success) or "I" (info) when it went well, "E",
// "W" or "F" with a Msg when not (pyasic's misc validate_command_output reads it so;
// docs.luxor.tech's logon, curtail and atm examples).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace drivers::miners {

// The reply parsed; throws std::runtime_error naming the command and the miner's Msg when the
// reply is not JSON or its STATUS is not a success.
nlohmann::json cgminer_reply(const std::string& command, const std::string& text);

// Text a miner sent, made fit for a log line and a JSON payload: valid UTF-8 (drivers/text),
// control characters as spaces, at most `max_bytes`.
std::string miner_text(std::string_view s, std::size_t max_bytes);

// A number in `j` at `key` (miners send some as strings); nullopt when absent or not a number.
std::optional<double> number_at(const nlohmann::json& j, const char* key);

}  // namespace drivers::miners

#pragma once
// Whatsminer (MicroBT btminer) API v3: JSON framed by a 4-byte little-endian length on TCP 4433,
// reads open, writes signed with a token from the owner's password and the miner's salt.
// Wire facts and their sources: docs/protocols.md §5.2.
#include <memory>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

std::unique_ptr<MinerApi> make_whatsminer(const MinerConfig& config, Exchange exchange);

// The v3 write token: the first 8 characters of base64(sha256(cmd + password + salt + ts)).
std::string whatsminer_token(const std::string& cmd, const std::string& password, const std::string& salt, long long ts);

}  // namespace drivers::miners

#pragma once
// A miner API's exchange over TCP: one connection per request, as the cgminer-style APIs take
// them (LuxOS, Whatsminer's v2; pyasic and luxos-tooling connect per command), bounded in time
// and size so that a miner that half-answers never holds the worker for long.
#include <chrono>
#include <string>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

// The reply is read up to a NUL byte or the close (cgminer framing), as a 4-byte little-endian
// length and that many bytes (Whatsminer API v3), or up to where its JSON object closes
// (Whatsminer API v2, json_frame.hpp). At most 1 MiB.
Exchange tcp_exchange(std::string host, int port, MinerKind::Framing framing, std::chrono::milliseconds timeout);

}  // namespace drivers::miners

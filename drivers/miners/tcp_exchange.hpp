#pragma once
// A miner API's exchange over TCP: one connection per request, as the cgminer-style APIs take
// them (LuxOS, Whatsminer's v2; pyasic and luxos-tooling connect per command), bounded in time
// (one deadline for the whole exchange: connect, send and every read) and in size, so that a
// miner that half-answers, drips or never stops never holds the worker for long nor grows it.
#include <chrono>
#include <memory>
#include <string>

#include "drivers/miners/miner_kind.hpp"
#include "drivers/miners/socket_io.hpp"

namespace drivers::miners {

inline constexpr std::size_t kMaxReplyBytes = 1 << 20;

// The reply is read up to a NUL byte or the close (cgminer framing), as a 4-byte little-endian
// length and that many bytes (Whatsminer API v3), or up to where its JSON object closes
// (Whatsminer API v2, json_frame.hpp). At most kMaxReplyBytes, all of it within `timeout`.
// `cancel` (optional) ends a wait at once: the worker that owns it is stopping.
Exchange tcp_exchange(std::string host, int port, MinerKind::Framing framing, std::chrono::milliseconds timeout,
                      std::shared_ptr<const Cancel> cancel = nullptr);

}  // namespace drivers::miners

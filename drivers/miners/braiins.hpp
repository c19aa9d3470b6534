#pragma once
// Braiins OS: its public REST API over HTTP on port 80 (Braiins OS Public REST API v1.7.0, the
// document served at developer.braiins-os.com/latest/openapi.json; its gRPC twin is
// braiins/bos-plus-api). Pause, resume, a power target in watts and telemetry. Wire facts and
// their sources: docs/protocols.md §8.3.
#include <memory>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

std::unique_ptr<MinerApi> make_braiins(const MinerConfig& config, Exchange exchange);

}  // namespace drivers::miners

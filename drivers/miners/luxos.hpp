#pragma once
// LuxOS (Luxor's firmware): cgminer-style JSON on TCP 4028, one command per connection, writes
// inside a session. Wire facts and their sources: docs/protocols.md §5.1.
#include <memory>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

std::unique_ptr<MinerApi> make_luxos(const MinerConfig& config, Exchange exchange);

}  // namespace drivers::miners

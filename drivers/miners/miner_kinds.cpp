#include <array>

#include "drivers/miners/braiins.hpp"
#include "drivers/miners/luxos.hpp"
#include "drivers/miners/miner_kind.hpp"
#include "drivers/miners/whatsminer.hpp"

namespace drivers::miners {

namespace {
// LuxOS: curtail sleep turns off the hashboards and the power supply, and the sleep persists
// across a restart: only `wakeup` ends it (docs.luxor.tech luxminer/curtail). The API needs no
// password; writes take a session (luxminer/sessions).
const MinerKind kLuxos{
    .key = "luxos",
    .label = "LuxOS (Luxor firmware)",
    .port = 4028,
    .needs_password = false,
    .idle_w = 60,
    .sleep_survives_power_cycle = true,
    .sleep_words = "curtail sleep: hashboards and power supply off; it stays asleep across a power cut until woken",
    .setup = "the API on TCP 4028 is on by default; nothing to enable",
    .make = make_luxos,
    .framing = MinerKind::Framing::nul_or_close,
    // powertargetset exists on select models, its parameters unconfirmed (protocols.md §8.1).
    .takes_power_target = false,
    .target_step_w = 0,
    .target_words = "",
};
// Whatsminer API v3 (firmware after 2024-11): set.miner.service stop/start; writes need the API
// write switch on in WhatsminerTool and the account's password changed from its default
// (matroskin api-doc Overview, citing apidoc.whatsminer.com; pyasic BTMinerV3RPCAPI).
const MinerKind kWhatsminer{
    .key = "whatsminer",
    .label = "Whatsminer (btminer API v3)",
    .port = 4433,
    .needs_password = true,
    .idle_w = 120,
    .sleep_survives_power_cycle = false,
    .sleep_words = "set.miner.service stop: btminer stops hashing, the control board and fans stay up",
    .setup = "WhatsminerTool: enable API writes and change the super account's password",
    .make = make_whatsminer,
    .framing = MinerKind::Framing::length_le32,
    // set.miner.power_limit restarts the miner; set.miner.power_percent's parameters are
    // unconfirmed (protocols.md §8.2).
    .takes_power_target = false,
    .target_step_w = 0,
    .target_words = "",
};
// Braiins OS: its REST API on HTTP port 80 (Public REST API v1.7.0): pause/resume, and a power
// target in watts, the one kind here that takes one. Pause keeps the control board and fans up
// (actions.proto PauseMining). Writes need a login (root, and the password set in its web UI).
const MinerKind kBraiins{
    .key = "braiins",
    .label = "Braiins OS (REST API)",
    .port = 80,
    .needs_password = false,  // a factory miner may have none; a wrong one is refused at login
    .idle_w = 120,
    .sleep_survives_power_cycle = false,
    .sleep_words = "pause: hashing stops, the control board and fans stay up",
    .setup = "the REST API on HTTP port 80 is on by default; give shackd the root password set in its web UI",
    .make = make_braiins,
    .framing = MinerKind::Framing::http,
    .takes_power_target = true,
    // Its DPS power step example is 20 W (REST PUT /api/v1/performance/dps); targets are whole watts.
    .target_step_w = 1,
    .target_words = "PUT /api/v1/performance/power-target {watt}: saved to flash at each change",
};
constexpr std::array<const MinerKind*, 3> kKinds{&kLuxos, &kWhatsminer, &kBraiins};
}  // namespace

std::span<const MinerKind* const> miner_kinds() { return kKinds; }

const MinerKind* find_miner_kind(std::string_view key) {
  for (const MinerKind* k : kKinds) {
    if (k->key == key) return k;
  }
  return nullptr;
}

std::string_view state_name(MinerState s) {
  switch (s) {
    case MinerState::mining: return "mining";
    case MinerState::sleeping: return "sleeping";
    case MinerState::unknown: break;
  }
  return "unknown";
}

}  // namespace drivers::miners

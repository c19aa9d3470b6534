#include <array>

#include "drivers/miners/braiins.hpp"
#include "drivers/miners/luxos.hpp"
#include "drivers/miners/miner_kind.hpp"
#include "drivers/miners/whatsminer.hpp"
#include "drivers/miners/whatsminer_v2.hpp"

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
    // powertargetset "<sid>,power=<W>" on a model in power-targeting mode (its atm reply says so:
    // PowerMin..PowerLimit), protocols.md §8.1. Its settings are saved while autosave is on
    // (docs.luxor.tech profileset, atmset: "If autosave is disabled, the changes will be lost
    // after a reboot"); the powertargetset page is not public, so a target counts as saved.
    .takes_power_target = true,
    .target_step_w = 1,
    .target_words = "powertargetset power=<W> within its atm PowerMin..PowerLimit: saved like its other settings",
    .target_persists = true,
    // No figure published; its AutoTuner "continuously fine-tunes" (docs.luxor.tech
    // features/powertargeting): five minutes, as for Braiins OS.
    .target_settle_s = 300,
    .firmware_mark = "LUXminer",
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
    // set.miner.power_percent in normal mode, a percent of its rated power, not saved
    // (protocols.md §8.2); set.miner.power_limit restarts the miner, so it is not used.
    .takes_power_target = true,
    .target_step_w = 0,  // 1 % of its rated power (config checks it)
    .target_words = "set.miner.power_percent (normal mode): a percent of its rated power, not saved",
    .target_percent = true,
    .target_persists = false,
    // Normal mode takes "several minutes" (apidoc.whatsminer.com set.miner.power_percent): ten.
    .target_settle_s = 600,
    .firmware_mark = "",
};
// Whatsminer API v2 (firmware before 2024-11, TCP 4028): power_off/power_on and the power
// percent, each encrypted with a token from the admin password (MicroBT "Whatsminer API V1.3.8";
// pyasic rpc/btminer.py BTMinerRPCAPI; protocols.md §8.4).
const MinerKind kWhatsminerV2{
    .key = "whatsminer_v2",
    .label = "Whatsminer (btminer API v2)",
    .port = 4028,
    .needs_password = true,
    .idle_w = 120,
    .sleep_survives_power_cycle = false,
    .sleep_words = "power_off: btminer stops hashing, the control board and fans stay up",
    .setup = "WhatsminerTool: enable the API and change the admin password",
    .make = make_whatsminer_v2,
    .framing = MinerKind::Framing::json_object,
    .takes_power_target = true,
    .target_step_w = 0,  // 1 % of its rated power (config checks it)
    .target_words = "set_power_pct_v2 (API 2.0.5 on; set_power_pct before): a percent of its rated power, not saved",
    .target_percent = true,
    .target_persists = false,
    // set_power_pct_v2 is "normal mode" (minutes) per the V2.0.5 text clients quote: ten.
    .target_settle_s = 600,
    .firmware_mark = "",
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
    .target_persists = true,
    // No figure published (its tuner retunes after a change; SetQuickRamping up_s is a setting):
    // five minutes.
    .target_settle_s = 300,
    .firmware_mark = "",
};
constexpr std::array<const MinerKind*, 4> kKinds{&kLuxos, &kWhatsminer, &kBraiins, &kWhatsminerV2};
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

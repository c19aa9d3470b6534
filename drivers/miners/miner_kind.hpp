#pragma once
// A miner firmware is data: its protocol and port, what it can do, how it authenticates, and its
// quirks, each with its source. One line per kind in miner_kinds(); docs/protocols.md §5 has the
// wire facts.
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "drivers/miners/miner_api.hpp"
#include "rules/profile.hpp"

namespace drivers::miners {

struct MinerConfig;

struct MinerKind {
  std::string_view key;    // "luxos": `kind: luxos` in a miners: entry
  std::string_view label;  // "LuxOS (Luxor firmware)"
  int port = 4028;
  bool needs_password = false;  // writes need the owner's API password
  // Asleep, the miner draws at most about this (its control board and fans), W: below it the
  // relay may be cut. An owner's `idle_w` overrides it.
  double idle_w = 60;
  bool sleep_survives_power_cycle = false;  // a sleeping miner powered on stays asleep until woken
  std::string_view sleep_words;   // how it sleeps, for the guide and `check`
  std::string_view setup;         // what the owner enables on the miner
  std::unique_ptr<MinerApi> (*make)(const MinerConfig&, Exchange) = nullptr;
  // The framing its exchange uses on TCP; http: HTTP/1.1 requests (http_exchange.hpp);
  // json_object: the reply ends where its JSON object closes (json_frame.hpp).
  enum class Framing { nul_or_close, length_le32, http, json_object } framing = Framing::nul_or_close;
  // Takes a power target in watts (MinerApi::set_power_target), in steps of at least this.
  bool takes_power_target = false;
  double target_step_w = 0;
  std::string_view target_words;  // how it takes one, for the guide and `check`
  // The target is a percent of the miner's rated power (MinerConfig::rated_w): its step is then
  // at least 1 % of that.
  bool target_percent = false;
  // Each target is saved to its flash: raises at most every 300 s (rules::PowerTarget).
  bool target_persists = false;
  // Within this long of taking a target, a miner that mines draws within a step of it, or it is
  // taken not to follow targets (daemon/miners/target_watch.hpp). No vendor publishes the
  // figure; each kind says where its own comes from.
  int target_settle_s = 300;
  // `probe --miner`: a reply is this firmware's only when its firmware text holds this (another
  // cgminer-style API on the same port may answer the same commands).
  std::string_view firmware_mark;
};

// An owner's miner: `miners.<load id>` in the config.
struct MinerConfig {
  std::string load_id;  // the relay id of its profile ("primary_s21")
  const MinerKind* kind = nullptr;
  std::string host;
  int port = 0;
  std::string user;      // Whatsminer's account ("super")
  std::string password;  // never logged
  double idle_w = 0;
  std::chrono::seconds stop_timeout{90};  // a stop waits this long for the draw to fall, then cuts
  std::chrono::seconds boot{300};         // after power on, the API has this long to answer
  std::chrono::seconds poll{10};
  std::chrono::milliseconds timeout{3000};  // one exchange
  // An HTTP firmware's API over HTTPS (`https: true`), its certificate checked against the
  // system's CAs or `ca_file` (http_exchange.hpp).
  bool https = false;
  std::string ca_file;
  // Set: its hottest sensor is held to this, °C, whatever the firmware's own "hot" limit says
  // (the only limit for a firmware that reports none, Whatsminer's).
  std::optional<double> overheat_c;
  // Set: its load follows the surplus with this power target (the kind must take one).
  std::optional<rules::PowerTarget> target;
  // What the miner draws at 100 %, for a kind whose target is a percent (target_percent);
  // `target.rated_w`, else the target's max_w.
  double rated_w = 0;
  // How long it has to come within a step of a target: `target.settle_s`, else its kind's.
  std::chrono::seconds target_settle{0};

  friend bool operator==(const MinerConfig&, const MinerConfig&) = default;
};

std::span<const MinerKind* const> miner_kinds();
const MinerKind* find_miner_kind(std::string_view key);

}  // namespace drivers::miners

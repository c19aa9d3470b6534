#pragma once
// A charger's charge-current limit that the charge block holds at 0 A: written to 0 when the
// rules block charging (cold battery), put back to the value it held when the block ends. The
// write is a swap on the device's poller thread (read, write, read back: see
// ModbusDevice::swap_register), retried each cycle until it is confirmed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/loop/poller.hpp"
#include "daemon/store/charge_limit_rows.hpp"

namespace shackd {

struct ChargeLimitSpec {
  std::string name;   // for events and logs: "dvcc", "solark_charge_limit"
  std::string label;  // for people: "DVCC max charge current (GX 2705)"
  int unit = 0;
  std::uint16_t address = 0;
  // Put back when the limit already read 0 A as the block began: that 0 is shackd's own from
  // before a crash (-1 for DVCC: no limit; the owner's max_charge_a for the Sol-Ark).
  std::int16_t restore_if_zero = -1;
};

// What a step did, for the daemon to log and record as an event.
struct ChargeLimitNote {
  bool failure = false;  // a write failed (the first of a run of failures only)
  std::string text;      // "dvcc set to 0 A (was 50)"
};

class ChargeLimit {
 public:
  ChargeLimit(ChargeLimitSpec spec, PollWorker& worker) : spec_(std::move(spec)), worker_(&worker) {}
  // Once per cycle: takes the writes the poller finished, then starts the one `blocked` needs.
  std::vector<ChargeLimitNote> step(bool blocked);
  bool applied() const { return applied_; }  // the device confirmed 0 A
  const ChargeLimitSpec& spec() const { return spec_; }
  // What to persist (table charge_limits), and whether it changed since the last take: saved
  // *before* the 0 A write goes out, so a crash in between still puts the limit back.
  std::optional<ChargeLimitRow> take_row();
  // After a restart: a block that was on when the daemon stopped.
  void resume(const ChargeLimitRow& row);

 private:
  ChargeLimitSpec spec_;
  PollWorker* worker_;
  bool applied_ = false, in_flight_ = false;
  bool unconfirmed_ = false;  // resumed as applied: not yet confirmed by this run
  std::int16_t saved_ = -1;  // what the limit held before the block
  int failures_ = 0;         // in a row
  bool row_changed_ = false;
  bool persisted_applied_ = false;  // what the row says
};

}  // namespace shackd

#pragma once
// A charger's charge-current limit that the charge block holds at 0 A: written to 0 when the
// rules block charging (cold battery), put back to the value it held when the block ends. The
// write is a swap on the device's poller thread (read, write, read back: see
// ModbusDevice::swap_register), retried each cycle until it is confirmed.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/devices/charge_limit_spec.hpp"
#include "daemon/core/register_swap.hpp"
#include "daemon/store/charge_limit_rows.hpp"

namespace shackd {

// What a step did, for the daemon to log and record as an event.
struct ChargeLimitNote {
  bool failure = false;  // a write failed (the first of a run of failures only)
  std::string text;      // "dvcc set to 0 A (was 50)"
};

class ChargeLimit {
 public:
  // `save` records the row (table charge_limits); it is called before a 0 A write is handed to
  // the poller, so the record is on disk before the device can be at 0 A.
  using Save = std::function<void(const std::string& name, const ChargeLimitRow& row)>;
  ChargeLimit(ChargeLimitSpec spec, RegisterSwapper& worker, Save save)
      : spec_(std::move(spec)), worker_(&worker), save_(std::move(save)) {}
  // Once per cycle: takes the writes the poller finished, then starts the one `blocked` needs.
  std::vector<ChargeLimitNote> step(bool blocked);
  bool applied() const { return applied_; }  // the device confirmed 0 A
  const ChargeLimitSpec& spec() const { return spec_; }
  // After a restart: a block that was on when the daemon stopped.
  void resume(const ChargeLimitRow& row);

 private:
  ChargeLimitSpec spec_;
  RegisterSwapper* worker_;
  Save save_;
  bool applied_ = false, in_flight_ = false;
  std::int16_t saved_ = -1;  // what the limit held before the block
  int failures_ = 0;         // in a row
  bool persisted_applied_ = false;  // what the row says
  void save() { save_(spec_.name, ChargeLimitRow{persisted_applied_, saved_}); }
};

}  // namespace shackd

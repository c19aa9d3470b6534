#pragma once
// Each load's energy today (daemon/site/energy.hpp) as a side job of the cycle (issue 44): the
// loop hands it the cycle's draws; it counts them, puts the day's totals in the cycle's records,
// and carries a day on across a restart. A new day, or the first trusted date after a start (a Pi
// without a clock waits for NTP), takes what the store holds for that day: read on the recorder's
// thread, taken by a later cycle, what this process counted meanwhile added to it. It never waits
// on the disk.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/site/energy.hpp"
#include "rules/time.hpp"

namespace shackd {

class EnergySide {
 public:
  // The energy meter's face (issue 57): its projection of the cycle's record, each load's draw
  // (what its relay says beats what was decided; the relay's fresh meter, else a miner's own word,
  // beats the rating) and the site's flows, counted on local date `day` at `now` (account()).
  void after_cycle(const CycleRecord& record, const std::string& day, rules::SteadyTime now, Records& records,
                   Recorder* recorder);
  // One cycle on local date `day`: `draws` counted, the day's totals into `records`; a new day's
  // stored counts asked of `recorder` (null: none runs yet, the day starts from this process's).
  void account(const std::string& day, rules::SteadyTime now, const std::vector<Draw>& draws, Records& records,
               Recorder* recorder);
  const EnergyMeter& meter() const { return meter_; }

 private:
  // The stored counts of a day, written by the recorder's thread, taken by the loop's.
  struct Mail {
    std::mutex m;
    std::optional<std::pair<std::string, std::map<std::string, LoadEnergy>>> stored;
  };
  void take_mail();
  EnergyMeter meter_;
  std::shared_ptr<Mail> mail_ = std::make_shared<Mail>();  // shared: a task outlives nothing it writes
};

}  // namespace shackd

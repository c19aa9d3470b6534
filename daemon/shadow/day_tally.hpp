#pragma once
// The second opinions' day in figures, live (issue 60: "a day's summary: disagreements by load with
// their durations, what they cost or would have gained in battery Ah, in surplus kWh used, in starts
// and in minutes under a stop voltage"), published retained on <prefix>/shadow_day or
// <prefix>/candidate_day, so that Home Assistant and a fleet see it without `shackd report`.
//
// The model is the report's (daemon/report/shadow_tally.hpp), at the cycle's resolution instead of
// the minute's: while they differ the load draws its rated watts; the surplus is the PV above the
// rest of the site (the site's load less this one's rated draw where it was on); the draw comes
// from that surplus first and from the bank for the rest, in Ah at the cycle's battery voltage.
// Starts: each side's OFF-to-ON changes (the relay's, or the profiles in force's, for "actual").
// Pure: values in (the cycle's own figures and its length), figures out; no clock, no I/O.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shackd {

struct TallyLoad {
  std::string id, name;
  bool would_on = false;
  std::optional<bool> actual_on;  // nullopt: not known (a relay that has said nothing)
  double rated_w = 0;             // 0: no rating (a fan): time only
  std::optional<double> stop_v;   // a miner's stop voltage as the rules use it
  bool opened = false;            // a spell opened this cycle (the comparison's: a new reason is a new spell, as in the database)
};

struct TallyCycle {
  std::string day;   // the local day ("2026-11-28"); a new one starts the figures again
  double dt_s = 0;   // since the last cycle (the caller bounds it: a stall is not hours of difference)
  std::optional<double> pv_w, load_w, battery_v;
  std::vector<TallyLoad> loads;
};

struct TallySide {
  int spells = 0;
  double minutes = 0, surplus_kwh = 0, bank_ah = 0, minutes_under_stop = 0;
};

struct TallyFigures {
  std::string name;
  double rated_w = 0;
  TallySide would_run;    // would have had it ON where it was OFF
  TallySide ran_instead;  // it was ON where the would-be decision had it OFF
  int would_starts = 0, actual_starts = 0;
};

class DayTally {
 public:
  void add(const TallyCycle& c);
  const std::string& day() const { return day_; }
  const std::map<std::string, TallyFigures>& loads() const { return loads_; }
  // {"day":"2026-11-28","spells":n,"minutes":m,"loads":{"<id>":{"name":...,"rated_w":...,
  //  "would_run":{...},"ran_instead":{...},"starts":{"would":n,"actual":m}}}}, the loads with a
  //  spell or a start today only; `candidate`: the starts' keys say "candidate"/"in_force".
  // A relay's first word after "not known" is no start: it may have been on all along.
  std::string json(bool candidate) const;

 private:
  struct Last {
    bool would_on = false;
    std::optional<bool> actual_on;
    int side = 0;  // 0 agree or unknown, 1 would run, -1 ran instead
  };
  std::string day_;
  std::map<std::string, TallyFigures> loads_;
  std::map<std::string, Last> last_;
};

}  // namespace shackd

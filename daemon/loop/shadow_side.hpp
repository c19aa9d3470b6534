#pragma once
// The second opinions' side of the loop (issue 60): shadow mode's comparison
// (daemon/shadow/shadow_watch.hpp) and a candidate profile's (daemon/shadow/candidate.hpp), each a
// component that builds its projection from the cycle's record, and where what they say goes: the
// log, the recorder (tables shadow_disagreements, candidate_differences) and the publisher
// (<prefix>/shadow/<load>, <prefix>/candidate/<load>). It joins three components, which never
// include each other: so it is the loop's.
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/cycle_record.hpp"
#include "daemon/shadow/candidate.hpp"
#include "daemon/shadow/day_tally.hpp"
#include "daemon/shadow/shadow_watch.hpp"
#include "daemon/site/loads.hpp"

namespace shackd {

class Publisher;
class Recorder;


class ShadowSide {
 public:
  // Where the comparison's news goes.
  struct Out {
    Publisher& publisher;
    Recorder* recorder;  // null until it runs: the rows are not kept
    const std::string& prefix;
    std::int64_t wall_s = 0;
    // Home Assistant's node of the second opinions' entities, empty: none.
    std::string discovery_node = {};
  };
  // Where its news goes on this site: `config`'s prefix, and its discovery node
  // (<discovery_prefix>/binary_sensor/shackd_<site id>/) where Home Assistant's discovery is on.
  static Out out_to(Publisher& publisher, Recorder* recorder, const Config& config, std::int64_t wall_s,
                    const std::string& site_id);
  // Whether it has anything to compare: shadow mode, or a candidate profile.
  bool active(bool shadow) const { return shadow || !candidate_sets().empty(); }
  // The config's loop.candidate, at the start and at each reload: a changed list starts again from
  // `state_now` (the state in force before the next cycle), the old one's spells closed and its
  // documents cleared; the same list goes on.
  void candidate(const std::vector<std::string>& sets, const rules::State& state_now, const std::vector<LoadRef>& loads,
                 std::int64_t wall_ms, const Out& out);
  const std::vector<std::string>& candidate_sets() const { return candidate_.sets(); }
  // After the relays: in shadow mode this cycle's decisions against the relays' reported states;
  // with a candidate, its decisions against the ones in force.
  void after_cycle(const CycleRecord& record, std::int64_t wall_ms, bool shadow, const Out& out);
  // The stop: the open spells closed, the retained documents and Home Assistant's entities cleared.
  void stop(std::int64_t wall_ms, bool shadow, const std::vector<LoadRef>& loads, const Out& out);
  // Every topic again (a reconnect, Home Assistant's birth).
  void republish() {
    watch_.republish();
    candidate_.republish();
  }
  // What a candidate's test reads.
  const Candidate& candidate_run() const { return candidate_; }

 private:
  static void said(const ShadowNews& news, const std::string& base, const Out& out);
  void end_candidate(std::int64_t wall_ms, const std::vector<LoadRef>& loads, const Out& out);
  // The day's figures (<prefix>/shadow_day, <prefix>/candidate_day): added every cycle, sent when a
  // spell opened or closed, at a new day, and at least every minute.
  struct Day {
    DayTally tally;
    std::int64_t sent_s = 0;
    std::optional<rules::SteadyTime> last_now;
  };
  static void count_day(Day& day, const CycleRecord& record, const ShadowInputs& in, const ShadowNews& news,
                        const std::string& topic, bool candidate, const Out& out);
  ShadowWatch watch_;
  Candidate candidate_;
  Day shadow_day_, candidate_day_;
};

}  // namespace shackd

#pragma once
// Shadow mode's side of the loop (issue 60): the comparison (daemon/shadow/shadow_watch.hpp, a
// component that builds its projection from the cycle's record) and where what it says goes: the
// log, the recorder (table shadow_disagreements) and the publisher (<prefix>/shadow/<load>). It
// joins three components, which never include each other: so it is the loop's.
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/core/cycle_record.hpp"
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
  };
  // After the relays: this cycle's decisions against the relays' reported states.
  void after_cycle(const CycleRecord& record, std::int64_t wall_ms, const Out& out);
  // The stop: the open spells closed, the retained documents and Home Assistant's shadow entities
  // cleared (`discovery_node`: <discovery_prefix>/binary_sensor/shackd_<site id>/, empty: none).
  void stop(std::int64_t wall_ms, const std::vector<LoadRef>& loads, const std::string& discovery_node, const Out& out);
  // Every topic again (a reconnect, Home Assistant's birth).
  void republish() { watch_.republish(); }

 private:
  static void said(const ShadowNews& news, const Out& out);
  ShadowWatch watch_;
};

}  // namespace shackd

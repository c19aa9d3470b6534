// The daemon's side of the miners' APIs (daemon/miners/fleet.hpp): what the fleet tells after the
// relays goes to the history and MQTT through a sink, the fleet itself seeing nothing of the daemon.
#include "daemon/loop/daemon.hpp"

#include <utility>

namespace shackd {

void Daemon::miners_bookkeeping(rules::SteadyTime now, std::int64_t wall) {
  // A local class of a member function has the function's access: the sink is the only door.
  struct Sink final : MinerSink {
    Daemon& d;
    std::int64_t wall;
    Sink(Daemon& daemon, std::int64_t w) : d(daemon), wall(w) {}
    void actuation(const std::string& load_id, const rules::Reason& reason, const std::string& detail,
                   std::optional<double> target_w) override {
      d.event("actuation", load_id, reason, detail, wall, &d.core_.snapshot(), std::nullopt, target_w);
    }
    // Values to the publisher's ordered queue: its thread renders the JSON (issue 44).
    void miner_state(const std::string& load_id, MinerStateFacts facts) override {
      d.publisher_.send_miner(d.config_.mqtt.prefix + "/load/" + load_id + "/miner", std::move(facts));
    }
  } sink(*this, wall);
  for (const auto& l : core_.site().loads) {
    if (!miners_.config(l.id)) continue;
    guarded(SideJob::events, [&] { miners_.tell(l, decision_for(core_.decision(), l), now, sink); });
  }
}

}  // namespace shackd

#include "daemon/publish/publisher_report.hpp"

#include <fmt/format.h>

#include "daemon/core/side_guard.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void report_publisher(Publisher& publisher, LoopStats& stats, Events& events, rules::SteadyTime now, std::int64_t wall_s) {
  const PublisherStats st = publisher.stats();
  if (st.lost() > stats.publish_coalesced + stats.publish_dropped + stats.publishes_refused) {
    // The publisher's own bookkeeping (a view coalesced now and then on a busy machine): below a
    // warning. A minute of losses is the publish_lost alarm, which is one (issue 56).
    log::limited("publish lost", log::Level::info,
                 fmt::format("publish: {} cycle view(s) replaced by newer ones before they went out, {} message(s) "
                             "dropped, {} publish(es) refused by the link (the decisions and relays are not delayed)",
                             st.coalesced, st.messages_dropped, st.refused));
  }
  stats.publish_coalesced = st.coalesced;
  stats.publish_dropped = st.messages_dropped;
  stats.publishes_refused = st.refused;  // counted once, by the publisher, where it sends
  stats.publish_busy_s = st.busy_s;
  for (const auto& n : publisher.watch(now)) {
    switch (n.kind) {
      case PublisherNote::Kind::failure: side_failed(stats, SideJob::publish, n.text.c_str()); break;
      case PublisherNote::Kind::alarm:
        log::warn("{}", n.text);
        events.add(site_event("alarm", n.text, wall_s));
        break;
      case PublisherNote::Kind::alarm_end:
        log::info("{}", n.text);
        events.add(site_event("alarm_end", n.text, wall_s));
        break;
    }
  }
}

}  // namespace shackd

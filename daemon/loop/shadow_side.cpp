#include "daemon/loop/shadow_side.hpp"

#include <utility>

#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void ShadowSide::after_cycle(const CycleRecord& record, std::int64_t wall_ms, const Out& out) {
  said(watch_.after_cycle(record, wall_ms), out);
}

void ShadowSide::stop(std::int64_t wall_ms, const std::vector<LoadRef>& loads, const std::string& discovery_node,
                      const Out& out) {
  said(watch_.close_all(wall_ms), out);
  // What the retained documents said stood while shackd ran: cleared, so that nobody reads an old
  // disagreement as the site's now.
  for (const auto& l : loads) out.publisher.send(out.prefix + "/shadow/" + l.id, "", true, 1);
  out.publisher.send(out.prefix + "/shadow", "", true, 1);
  // Home Assistant's shadow entities removed (an empty config, HA's MQTT discovery docs): a shackd
  // started again in shadow mode announces them again; one that commands has none.
  if (!discovery_node.empty()) {
    out.publisher.send(discovery_node + "shadow_mode/config", "", true, 1);
    for (const auto& l : loads) out.publisher.send(discovery_node + l.id + "_shadow/config", "", true, 1);
  }
}

void ShadowSide::said(const ShadowNews& news, const Out& out) {
  for (const auto& line : news.lines) log::info("{}", line);
  if (!news.rows.empty() && out.recorder) {
    Records rec;
    rec.wall_s = out.wall_s;
    for (const auto& r : news.rows) rec.shadow[{r.load_id, r.start_ms}] = r;
    out.recorder->post(std::move(rec));
  }
  for (const auto& t : news.topics) out.publisher.send(out.prefix + "/shadow/" + t.load_id, t.payload, true, 1);
}

}  // namespace shackd

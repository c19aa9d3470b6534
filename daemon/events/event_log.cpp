#include "daemon/events/event_log.hpp"

#include <cmath>
#include <utility>

#include "daemon/publish/publish.hpp"
#include "daemon/publish/render.hpp"
#include "daemon/publish/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

void EventLog::wire(std::int64_t run_ms, Store store, Direct direct) {
  run_ms_ = run_ms;
  store_ = std::move(store);
  direct_ = std::move(direct);
}

void EventLog::record(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
                      const std::string& detail, std::int64_t wall_now, const Context* cycle, std::optional<bool> on,
                      std::optional<double> target_w) {
  Event e;
  e.at_unix_s = wall_now;
  e.kind = kind == "override_rejected" ? "override" : kind;
  // Ids and details may quote what a client sent: valid UTF-8 from here on, and bounded.
  if (!load_id.empty()) e.load_id = drivers::text::clean_utf8(load_id, 64);
  e.commanded_on = on;
  // Only a target the schema takes (0010's CHECK): a row it refused would fail the whole flush.
  if (target_w && std::isfinite(*target_w) && *target_w > 0 && *target_w < 100000) e.target_w = target_w;
  e.reason_code = static_cast<int>(r.code);
  e.reason = std::string(rules::code_name(r.code));
  e.detail = drivers::text::clean_utf8(detail.empty() ? rules::describe(r) : detail, 1024);
  if (cycle) {
    const auto& snap = cycle->snap;
    const auto& d = cycle->decision;
    e.battery_v = d.battery.measured_v;
    e.voltage_source = std::string(source_name(snap.battery_v, d.battery.source));
    if (snap.pv_w) e.pv_w = snap.pv_w->value;
    if (snap.load_w) e.load_w = snap.load_w->value;
    if (const auto* t = source_at(snap.battery_temp_c, d.charge_temp_source)) e.temp_c = t->reading->value;
  }
  const std::string id = e.load_id.value_or("");
  const std::string text = e.detail;
  if (store_) store_(std::move(e));  // handed to the recorder with this cycle's records
  send(route, kind, id, r, text, wall_now);
}

void EventLog::send(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
                    const std::string& detail, std::int64_t wall_now) {
  // Numbered whether or not it reaches a broker: a gap in `seq` says an event was lost on the way.
  const EventId id{route.site_id, run_ms_, ++seq_};
  std::string text = event_json(kind, load_id, r, detail, wall_now, &id);
  std::vector<EventOutbox::Message> messages{{route.prefix + "/event", text}};
  if (route.uplink) messages.push_back({uplink_topic(route.prefix, route.site_id, "event"), text});
  if (direct_) {
    for (const auto& m : messages) direct_(m.topic, m.payload);
    return;
  }
  // In order, confirmed one by one, at the pace the link keeps them in flight (outbox.hpp).
  outbox_.push(std::move(messages));
}

std::uint64_t EventLog::pump() {
  outbox_.pump();
  const auto st = outbox_.stats();
  if (st.dropped != unsent_) {
    const auto before = std::exchange(unsent_, st.dropped);
    if (before == 0 || st.dropped / 100 != before / 100) {
      log::warn("events: {} not sent to the broker (more than {} waited for it); the store has them", st.dropped,
                EventOutbox::kLimit);
    }
  }
  return unsent_;
}

}  // namespace shackd

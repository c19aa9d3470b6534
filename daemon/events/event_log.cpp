#include "daemon/events/event_log.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "daemon/vocab/publish.hpp"
#include "daemon/vocab/render.hpp"
#include "daemon/vocab/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

void EventLog::wire(std::int64_t run_ms, Store store, Failed failed) {
  run_ms_ = run_ms;
  store_ = std::move(store);
  failed_ = std::move(failed);
  outbox_.set_fate([f = fates_](std::uint64_t seq, bool sent) { f->sent(seq, sent); });
}

void EventLog::route_to(std::string prefix, bool uplink, std::string site_id) {
  prefix_ = std::move(prefix);
  uplink_ = uplink;
  site_id_ = std::move(site_id);
}

void EventLog::add(const EventNote& n) noexcept {
  try {
    const Route route{prefix_, uplink_, site_id_};
    if (!n.stored) {
      send(route, n.kind, n.load_id, n.reason, n.text, n.wall_s);
      return;
    }
    if (n.snapshot && n.decision) {
      const Context cycle{*n.snapshot, *n.decision};
      record(route, n.kind, n.load_id, n.reason, n.text, n.wall_s, &cycle, n.on, n.target_w);
    } else {
      record(route, n.kind, n.load_id, n.reason, n.text, n.wall_s, nullptr, n.on, n.target_w);
    }
  } catch (const std::exception& e) {
    if (failed_) failed_(e.what());
  } catch (...) {
    if (failed_) failed_("an unknown exception");
  }
}

void EventLog::report(LoopStats& stats, rules::SteadyTime now, std::int64_t wall_s) {
  const auto f = fates();
  stats.events_unstored = f.unstored;
  stats.events_lost = f.lost;
  if (const auto text = lost_alarm(now)) {
    log::warn("{}", *text);
    add(site_event("alarm", *text, wall_s));
  }
}

std::function<void(std::uint64_t, bool)> EventLog::store_fate() const {
  return [f = fates_](std::uint64_t seq, bool stored) { f->stored(seq, stored); };
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
  // Numbered whether or not it reaches a broker: a gap in `seq` says an event was lost on the way.
  const std::uint64_t seq = ++seq_;
  fates_->made(seq, static_cast<bool>(store_), true);
  e.seq = seq;
  if (store_) store_(std::move(e));  // handed to the recorder with this cycle's records
  send_numbered(route, kind, id, r, text, wall_now, seq);
}

void EventLog::send(const Route& route, const std::string& kind, const std::string& load_id, const rules::Reason& r,
                    const std::string& detail, std::int64_t wall_now) {
  const std::uint64_t seq = ++seq_;
  fates_->made(seq, false, true);
  send_numbered(route, kind, load_id, r, detail, wall_now, seq);
}

void EventLog::send_numbered(const Route& route, const std::string& kind, const std::string& load_id,
                             const rules::Reason& r, const std::string& detail, std::int64_t wall_now,
                             std::uint64_t seq) {
  const EventId id{route.site_id, run_ms_, seq};
  std::string text = event_json(kind, load_id, r, detail, wall_now, &id);
  std::vector<EventOutbox::Message> messages{{route.prefix + "/event", text}};
  if (route.uplink) messages.push_back({uplink_topic(route.prefix, route.site_id, "event"), text});
  // In order, confirmed one by one, at the pace the link keeps them in flight (outbox.hpp).
  outbox_.push(std::move(messages), seq);
}

std::uint64_t EventLog::pump() {
  outbox_.pump();
  const auto c = fates_->counts();
  // Said at the first and at each further hundred: a flood must not become a flood of lines. The
  // outbox says only what it did: whether the store kept an event is the store's to say (issue 56:
  // "the store has them" was logged of events the store had dropped too).
  if (c.unsent != unsent_) {
    const auto before = std::exchange(unsent_, c.unsent);
    if (before == 0 || c.unsent / 100 != before / 100) {
      log::warn("events: {} not sent to the broker (more than {} waited for it); those the store keeps are in the "
                "database, one it drops too is counted as lost",
                c.unsent, EventOutbox::kLimit);
    }
  }
  if (c.lost != lost_) {
    const auto before = std::exchange(lost_, c.lost);
    if (before == 0 || c.lost / 100 != before / 100) {
      log::warn("events: {} lost, neither stored nor sent ({} not stored, {} not sent in all)", c.lost, c.unstored,
                c.unsent);
    }
  }
  return unsent_;
}

std::optional<std::string> EventLog::lost_alarm(rules::SteadyTime now) {
  const auto c = fates_->counts();
  if (c.lost == lost_alarmed_ || (lost_alarmed_at_ && now - *lost_alarmed_at_ < kLostAlarmEvery)) return std::nullopt;
  lost_alarmed_ = c.lost;
  lost_alarmed_at_ = now;
  return fmt::format("events_lost: {} event(s) neither stored nor sent since the start ({} not stored, {} not sent)",
                     c.lost, c.unstored, c.unsent);
}

}  // namespace shackd

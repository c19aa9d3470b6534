#include "daemon/publish/cycle_publisher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "daemon/vocab/ac_figures.hpp"
#include "daemon/vocab/uplink.hpp"

namespace shackd {

namespace {
std::string on_off(bool on) { return on ? "ON" : "OFF"; }

// <prefix>/ac/<id> at least this often, news or not (daemon/vocab/ac_figures.hpp).
constexpr auto kAcHeartbeat = std::chrono::seconds(kAcHeartbeatS);

// A load that moved by this much is news to a reader of <prefix>/ac/<id>: 50 W, or 2 % of what
// was last sent where that is more (a 6 kW phase's meter wanders by tens of watts every cycle).
bool load_moved(const std::optional<double>& was, const std::optional<double>& now) {
  if (was.has_value() != now.has_value()) return true;
  if (!now) return false;
  return std::abs(*now - *was) >= std::max(50.0, 0.02 * std::abs(*was));
}

// What a reader would not miss: its kind, phases, rating or surge rating; a phase's load beyond
// the deadband; any change of the verdict, of a word (the source's, a phase's), or of a
// generator's running.
bool ac_news(const AcSourceFigures& was, std::optional<bool> was_running, const AcSourceFigures& now,
             std::optional<bool> running) {
  if (was.kind != now.kind || was.phases != now.phases || was.rating_w != now.rating_w ||
      was.surge_w != now.surge_w) {
    return true;
  }
  if (was.overload != now.overload) return true;
  if (now.kind == rules::AcSourceKind::generator && was_running != running) return true;
  for (std::size_t ph = 0; ph < now.phases && ph < now.phase.size(); ++ph) {
    const AcPhaseFigures &a = was.phase[ph], &b = now.phase[ph];
    if (a.overloaded != b.overloaded || a.overload != b.overload || load_moved(a.load_w, b.load_w)) return true;
  }
  return false;
}
}  // namespace

void CyclePublisher::forget() {
  published_.clear();
  published_health_.clear();
  published_map_.clear();
  published_device_alarms_.clear();
  discovery_pending_.clear();
  published_ac_.clear();
  host_json_.clear();
  host_version_ = 0;
  host_sent_ = false;
  uplink_state_at_.reset();
}

void CyclePublisher::publish(const CycleFacts& v) {
  prefix_ = v.prefix;
  const std::string& p = prefix_;
  const bool everything = v.everything;
  const rules::SteadyTime now = v.record->now;
  if (everything && v.discovery) discovery_pending_ = discovery_messages(v.record->profiles(), v.record->loads(), *v.discovery);
  // Home Assistant's discovery is a burst of a hundred or more retained messages: what the link
  // refuses goes again with the next view, in order, until all are out.
  std::size_t sent = 0;
  while (sent < discovery_pending_.size() &&
         send_(discovery_pending_[sent].topic, discovery_pending_[sent].payload, true, 1)) {
    ++sent;
  }
  discovery_pending_.erase(discovery_pending_.begin(), discovery_pending_.begin() + static_cast<std::ptrdiff_t>(sent));
  // Superseded every cycle: QoS 0 spares the broker and paho an acknowledgement each.
  send_(p + "/state", state_json(v.record->snap, v.record->decision, v.record->profiles()), true, 0);
  send_(p + "/decision", decision_json(v.record->decision, v.record->loads()), false, 0);
  send_(p + "/loop", loop_json(v.record->loop), true, 0);
  ac_messages(v);
  if (std::string da = device_alarms_json(v.device_alarms); everything || da != published_device_alarms_) {
    if (send_(p + "/device_alarms", da, true, 1)) published_device_alarms_ = std::move(da);
  }
  // Health and energy: once a minute, and at once after a (re)connect.
  // Refused (the link's buffer full): due again next cycle.
  const bool health_due = everything || now - last_health_publish_ >= std::chrono::seconds(60);
  bool all_sent = true;
  for (const auto& l : v.record->loads()) all_sent = load_messages(v, l, everything, health_due) && all_sent;
  if (health_due && !v.energy_day.empty()) {
    for (const char* flow : {kPvFlow, kBatteryInFlow, kBatteryOutFlow}) {
      const auto e = v.energy.find(flow);
      all_sent = send_(p + "/energy/" + std::string(flow).substr(5),  // "site:pv" -> <prefix>/energy/pv
                       flow_energy_json(v.energy_day, e == v.energy.end() ? LoadEnergy{} : e->second), true, 1) &&
                 all_sent;
    }
  }
  bool device_changed = false;
  for (const auto& [name, h] : v.record->devices) {
    const bool ok = h.consecutive_failures == 0 && h.last_success.has_value();
    const auto last = published_health_.find(name);
    // A sensor that stops or starts reporting "not available", or a refused register, is news.
    auto map = std::pair(h.refused, h.not_available);
    const auto last_map = published_map_.find(name);
    const bool map_changed = last_map == published_map_.end() || last_map->second != map;
    const bool ok_changed = last == published_health_.end() || last->second != ok;
    if (health_due || map_changed || ok_changed) {
      if (send_(p + "/device/" + name + "/health", health_json(h, now), true, 1)) {
        device_changed = device_changed || ok_changed;
        published_health_[name] = ok;
        published_map_[name] = std::move(map);
      } else {
        all_sent = false;
      }
    }
  }
  // A bridge that connects or drops is news at once: the health is what `status` shows. So are
  // the broker's drops (at most once a cycle while they go on).
  const bool bridges_changed = published_bridges_ != v.mqtt.bridges;
  const bool drops_changed = published_broker_dropped_ != v.mqtt.broker_dropped;
  if (health_due || device_changed || bridges_changed || drops_changed || health_refused_) {
    health_refused_ =
        !send_(p + "/health", site_health_json(v.mqtt, published_health_, v.record->loop.store_queued, v.record->loop.store_errors), true, 1);
    if (!health_refused_) {
      published_bridges_ = v.mqtt.bridges;
      published_broker_dropped_ = v.mqtt.broker_dropped;
    }
  }
  if (health_due && all_sent) last_health_publish_ = now;
  host_message(v);
  uplink_message(v);
}

// Each AC source against its rating (issue 59), the metrics' figures, on <prefix>/ac/<id>: when a
// reader would see a difference (ac_news), at least every kAcHeartbeat, and with everything (a
// reconnect, Home Assistant's birth message). Retained, QoS 0: each supersedes the last, and one
// the link refused goes again with the next view (its figures are not taken as sent).
void CyclePublisher::ac_messages(const CycleFacts& v) {
  const rules::SteadyTime now = v.record->now;
  const AcFigures ac = ac_figures(v.record->profiles().rules, v.record->snap, v.record->state(), now);
  for (std::size_t s = 0; s < ac.count; ++s) {
    const AcSourceFigures& f = ac.source[s];
    std::string id(f.name);
    const auto last = published_ac_.find(id);
    const bool due = v.everything || last == published_ac_.end() || now - last->second.at >= kAcHeartbeat ||
                     ac_news(last->second.figures, last->second.running, f, ac.generator_running);
    if (!due) continue;
    if (!send_(prefix_ + "/ac/" + id, ac_source_json(f, ac.generator_running), true, 0)) continue;
    PublishedAc& pub = published_ac_[std::move(id)];
    pub.figures = f;
    pub.figures.name = {};
    pub.running = ac.generator_running;
    pub.at = now;
  }
}

// <prefix>/host when it changed (daemon/system/host_health.hpp; the reader is daemon/host/'s
// HostWatch, the core hands over a copy). One the link refused goes again with the next view,
// unchanged or not.
void CyclePublisher::host_message(const CycleFacts& v) {
  if (!v.host || !v.host->present()) return;
  if (host_version_ != v.host->version()) {
    std::string j = v.host->json();
    if (j != host_json_) host_sent_ = false;
    host_json_ = std::move(j);
    host_version_ = v.host->version();
  }
  if (!v.everything && host_sent_) return;
  host_sent_ = send_(prefix_ + "/host", host_json_, true, 1);
}

// The uplink's state (<prefix>/site/<id>/state) when due: every uplink.state_interval_s, and at
// once with everything; one the link refused is due again with the next view.
void CyclePublisher::uplink_message(const CycleFacts& v) {
  if (!v.uplink.enabled) return;
  if (!v.everything && uplink_state_at_ && v.record->now - *uplink_state_at_ < v.uplink.state_interval) return;
  // Retained, so that a consumer that starts later (or the central broker after a restart, from
  // the bridge's queue) has the site's last state at once.
  if (send_(uplink_topic(prefix_, v.uplink.site_id, "state"),
            uplink_state_json(v, v.uplink.site_id, v.uplink.site_name, v.record->wall_s), true, 1)) {
    uplink_state_at_ = v.record->now;
  }
}

// Each retained topic is taken as sent only when the link took it: a refused one goes next cycle.
bool CyclePublisher::load_messages(const CycleFacts& v, const LoadRef& l, bool everything, bool health_due) {
  bool all_sent = true;
  const auto& d = decision_for(v.record->decision, l);
  Published& pub = published_[l.id];
  const std::string topic = prefix_ + "/load/" + l.id;
  if (everything || pub.on != d.on) {
    if (send_(topic + "/state", on_off(d.on), true, 1)) pub.on = d.on;
  }
  // Again when the code changes, when its limit does, and when its value has moved materially
  // (1 % of the limit, 0.1 at least): "below start voltage: 50.78 V" must not stand for half an
  // hour while the bank sags to 47.5 V.
  const std::string key = fmt::format("{}/{}", static_cast<int>(d.reason.code), static_cast<int>(d.reason.cause));
  const auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
  const double step = std::max(0.1, std::isnan(d.reason.limit) ? 0.1 : 0.01 * std::abs(d.reason.limit));
  const bool moved = std::isnan(d.reason.value) != std::isnan(pub.reason_value) ||
                     (!std::isnan(d.reason.value) && std::abs(d.reason.value - pub.reason_value) >= step);
  if (everything || pub.reason_key != key || !same(pub.reason_limit, d.reason.limit) || moved) {
    if (send_(topic + "/reason", reason_json(d.reason), true, 1)) {
      pub.reason_key = key;
      pub.reason_value = d.reason.value;
      pub.reason_limit = d.reason.limit;
    }
  }
  const auto relay = v.record->relays ? v.record->relay.find(l.id) : v.record->relay.end();
  if (relay != v.record->relay.end()) {
    const auto observed = relay->second.observed;
    if (observed && (everything || pub.observed != observed)) {
      if (send_(topic + "/observed", on_off(*observed), true, 1)) pub.observed = observed;
    }
    // How its relay comes back after a power cut (`status` and Home Assistant warn of an ON).
    if (const auto& config = relay->second.config) {
      const auto& s = relay->second.power_on;
      Published::PowerOnFrom from{config, s.state, s.unreadable, s.unanswered};
      if (pub.power_on_from != from) {
        std::string power_on = drivers::mqtt::power_on_json(*config, s);
        if (power_on != pub.power_on) pub.sent_power_on = false;
        pub.power_on = std::move(power_on);
        pub.power_on_from = std::move(from);
      }
      if (everything || !pub.sent_power_on) pub.sent_power_on = send_(topic + "/power_on", pub.power_on, true, 1);
    }
  }
  if (health_due && !v.energy_day.empty()) {
    const auto e = v.energy.find(l.state_key);
    all_sent = send_(topic + "/energy",
                     energy_json(v.energy_day, e == v.energy.end() ? LoadEnergy{} : e->second,
                                 rated_draw_w(v.record->profiles().rules, l)),
                     true, 1);
  }
  // A miner's thresholds in force: what Home Assistant's number entities show
  // (mqtt.allow_settings), and for anyone who asks what a start waits for.
  if (l.kind == LoadRef::Kind::miner) {
    // Rendered again only with another site in force (a reload, a setting): the thresholds are
    // the site's profiles, shared by every record decided with it.
    if (pub.settings_site != v.record->site) {
      std::string settings = miner_settings_json(v.record->profiles(), l.index);
      if (settings != pub.settings) pub.sent_settings = false;
      pub.settings = std::move(settings);
      pub.settings_site = v.record->site;
    }
    if (everything || !pub.sent_settings) pub.sent_settings = send_(topic + "/settings", pub.settings, true, 1);
  }
  const std::string mode = mode_name(state_of(v.record->state(), l).override_.mode);
  if (everything || pub.mode != mode) {
    if (send_(topic + "/mode", mode, true, 1)) pub.mode = mode;
  }
  return all_sent;
}

}  // namespace shackd

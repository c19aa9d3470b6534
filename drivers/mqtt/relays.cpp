#include "drivers/mqtt/relays.hpp"

#include <algorithm>
#include <stdexcept>

namespace drivers::mqtt {

RelayManager::RelayManager(std::vector<RelayConfig> relays, RelayTiming timing, Publish publish)
    : relays_(std::move(relays)), timing_(timing), publish_(std::move(publish)), power_on_(relays_, publish_) {
  for (const auto& r : relays_) status_[r.id];
}

const RelayConfig& RelayManager::config(const std::string& id) const {
  const auto it = std::find_if(relays_.begin(), relays_.end(), [&](const RelayConfig& c) { return c.id == id; });
  if (it == relays_.end()) throw std::out_of_range("no relay '" + id + "'");
  return *it;
}

std::vector<std::string> RelayManager::subscriptions() const {
  std::vector<std::string> out;
  for (const auto& r : relays_) {
    for (auto& s : relay_subscriptions(r)) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  for (auto& s : power_on_.subscriptions()) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

void RelayManager::send(const RelayConfig& r, RelayStatus& s, SteadyTime now) {
  if (!s.desired) return;
  s.reassert_due = false;  // whatever made this send, it says what is wanted now
  bool all = true;
  for (const auto& out : relay_command(r, *s.desired, rpc_id_++)) {
    all = publish_(out.topic, out.payload, 1, false) && all;  // never retained
  }
  if (*s.desired && s.speed_pct >= 0) {
    if (auto sp = speed_command(r, s.speed_pct)) all = publish_(sp->topic, sp->payload, 1, false) && all;
  }
  if (all) {
    ++sent_;
    s.sent_at = now;
  }
  // The wait for a confirmation starts when a command went out: a command the broker never took
  // (it is down, or refused our password) is the broker's fault, said by the broker's own alarm,
  // not relay_unconfirmed for every relay. tick() resends it until it goes.
  if (all && !s.confirm_by && s.observed != s.desired) s.confirm_by = now + timing_.confirm_timeout;
}

void RelayManager::set_desired(const std::string& id, bool on, SteadyTime now) {
  RelayStatus& s = status_.at(id);
  if (s.desired == on) return;
  s.desired = on;
  s.confirm_by.reset();
  s.retry_at.reset();
  s.retries = 0;
  if (s.unconfirmed) s.unconfirmed = false;
  const auto& r = *std::find_if(relays_.begin(), relays_.end(), [&](const RelayConfig& c) { return c.id == id; });
  send(r, s, now);
}

void RelayManager::set_speed(const std::string& id, int percent) { status_.at(id).speed_pct = percent; }

void RelayManager::release(const std::string& id) {
  const auto it = status_.find(id);
  if (it == status_.end()) return;
  RelayStatus& s = it->second;
  s.desired.reset();
  s.confirm_by.reset();
  s.retry_at.reset();
  s.retries = 0;
  s.unconfirmed = false;
  s.reassert_due = false;
}

void RelayManager::tick(SteadyTime now) {
  for (const auto& r : relays_) {
    RelayStatus& s = status_.at(r.id);
    if (!s.desired) continue;
    // A device that came back or reported the wrong state: at once, but not twice within
    // kReassertGap (a report of the old state may race a command already on its way).
    if (s.reassert_due && (!s.sent_at || now - *s.sent_at >= kReassertGap)) {
      s.reassert_due = false;
      send(r, s, now);
      continue;
    }
    const bool confirmed = s.observed == s.desired;
    if (!confirmed && s.confirm_by && now >= *s.confirm_by && !s.unconfirmed) {
      s.unconfirmed = true;
      alarms_.push_back({r.id, "relay_unconfirmed",
                         std::string("commanded ") + (*s.desired ? "ON" : "OFF") + ", device reports " +
                             (s.observed ? (*s.observed ? "ON" : "OFF") : "nothing")});
      s.retry_at = now + timing_.retry_min;
    }
    if (s.unconfirmed && s.retry_at && now >= *s.retry_at) {
      ++s.retries;
      send(r, s, now);
      const auto backoff = std::min(timing_.retry_min * (1 << std::min(s.retries, 10)), timing_.retry_max);
      s.retry_at = now + backoff;
      continue;
    }
    // Resend on the interval; a dead-man ON is refreshed at a third of its time, well before it
    // runs out, so the device never drops a load shackd still wants.
    auto every = std::chrono::duration_cast<rules::Duration>(timing_.resend_interval);
    if (*s.desired && r.dead_man.count() > 0) every = std::min(every, rules::Duration(r.dead_man) / 3);
    if (!s.sent_at || now - *s.sent_at >= every) send(r, s, now);
  }
  power_on_.tick(now);
}

bool RelayManager::on_message(const std::string& topic, const std::string& payload, SteadyTime now) {
  bool consumed = power_on_.on_message(topic, payload, now);
  for (const auto& r : relays_) {
    const auto o = parse_relay_message(r, topic, payload);
    if (!o) continue;
    consumed = true;
    RelayStatus& s = status_.at(r.id);
    if (o->available && o->available != s.available) {
      // Online when first heard of is how a relay should be: news only when it was offline.
      if (s.available || !*o->available) {
        alarms_.push_back({r.id, *o->available ? "relay_online" : "relay_offline",
                           *o->available ? "the device is back" : "the device reports itself offline"});
      }
      // Back from a power cut or a reboot, it is in its power-on state, whatever that is
      // (PowerOnState, a Shelly's default): tell it what is wanted now, not at the next resend.
      if (*o->available && s.desired) s.reassert_due = true;
      // ... and how it powers up may have changed with it (a web page, a reset): asked again,
      // by a manager that commands (on_connected asked first; a dry run never does).
      if (*o->available && power_on_.status(r.id).asked_at) power_on_.ask(r.id, now);
      s.available = o->available;
    }
    if (o->power_w) {
      s.power_w = o->power_w;
      s.power_at = now;
    }
    if (o->on) {
      const std::optional<bool> was = s.observed;
      if (s.observed != o->on) s.observed_since = now;
      s.observed = o->on;
      s.observed_at = now;
      if (s.desired && *s.desired == *o->on) {
        if (s.unconfirmed) alarms_.push_back({r.id, "relay_confirmed", "the device now reports the commanded state"});
        s.unconfirmed = false;
        s.confirm_by.reset();
        s.retry_at.reset();
        s.retries = 0;
      } else if (s.desired && !s.confirm_by && !s.unconfirmed) {
        // Unasked, not what is wanted: a button, a reboot into its power-on state, another
        // client. Put it right within the cycle (tick), not after the confirm timeout. (A wrong
        // answer to a command in flight is the confirm timeout's and the retries' to handle: a
        // device that contradicts every command must not be commanded every second.)
        if (was && *was == *s.desired) {
          alarms_.push_back({r.id, "relay_changed",
                             std::string("the device reports ") + (*o->on ? "ON" : "OFF") + ", " +
                                 (*s.desired ? "ON" : "OFF") + " is commanded: re-asserted"});
        }
        s.reassert_due = true;
        s.confirm_by = now + timing_.confirm_timeout;
      }
    }
  }
  return consumed;
}

void RelayManager::on_connected(SteadyTime now) {
  for (const auto& r : relays_) {
    RelayStatus& s = status_.at(r.id);
    s.confirm_by.reset();
    s.reassert_due = false;
    send(r, s, now);
  }
  power_on_.ask_all(now, true);
}

std::vector<RelayAlarm> RelayManager::take_alarms() {
  std::vector<RelayAlarm> out;
  out.swap(alarms_);
  for (auto& a : power_on_.take_alarms()) out.push_back(std::move(a));
  return out;
}

}  // namespace drivers::mqtt

#include "drivers/mqtt/relays.hpp"

#include <mosquitto.h>

#include <algorithm>
#include <stdexcept>

namespace drivers::mqtt {

RelayManager::RelayManager(std::vector<RelayConfig> relays, RelayTiming timing, Publish publish, Stand stand)
    : relays_(share_relays(std::move(relays))),
      timing_(timing),
      publish_(std::move(publish)),
      power_on_(relays_, publish_),
      stand_(std::move(stand)) {
  for (const auto& r : relays_) status_[r->id];
  filters_ = subscriptions();
}

const std::shared_ptr<const RelayConfig>& RelayManager::find(const std::string& id) const {
  const auto it = std::find_if(relays_.begin(), relays_.end(), [&](const auto& c) { return c->id == id; });
  if (it == relays_.end()) throw std::out_of_range("no relay '" + id + "'");
  return *it;
}

std::shared_ptr<const RelayConfig> RelayManager::shared_config(const std::string& id) const { return find(id); }

const RelayConfig& RelayManager::config(const std::string& id) const { return *find(id); }

std::vector<std::string> RelayManager::subscriptions() const {
  std::vector<std::string> out;
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    for (auto& s : relay_subscriptions(r)) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  for (auto& s : power_on_.subscriptions()) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

bool RelayManager::listens_to(const std::string& topic) const {
  // libmosquitto's own matching of a topic against a filter (+ and #), as the broker matches it.
  return std::any_of(filters_.begin(), filters_.end(), [&](const std::string& f) {
    bool match = false;
    return mosquitto_topic_matches_sub(f.c_str(), topic.c_str(), &match) == MOSQ_ERR_SUCCESS && match;
  });
}

void RelayManager::send(const RelayConfig& r, RelayStatus& s, SteadyTime now) {
  if (!s.desired) return;
  s.reassert_due = false;  // whatever made this send, it says what is wanted now
  if (holds_on(s)) {
    // Its word is awaited (it may have lost its power: an ON now would start a load that must
    // earn its start again): nothing goes, and nothing stands for the next connect.
    if (stand_) stand_(r.id, {});
    return;
  }
  std::vector<Outgoing> out = relay_command(r, *s.desired, rpc_id_++);
  if (*s.desired && s.speed_pct >= 0) {
    if (auto sp = speed_command(r, s.speed_pct)) out.push_back(std::move(*sp));
  }
  // It stands before it is sent (sent first at the next connect, whether or not it goes now): a
  // connect whose CONNACK took what stood a moment before sees it after it says it is connected,
  // and sends it then (Client::on_connect), so a command refused in that moment is not left behind
  // an older one until the next cycle.
  if (stand_) stand_(r.id, out);
  bool all = true;
  for (const auto& o : out) all = publish_(o.topic, o.payload, 1, false) && all;  // never retained
  if (all) {
    ++sent_;
    s.sent_at = now;
    if (*s.desired && r.dead_man.count() > 0) s.armed_until = now + r.dead_man;
    else s.armed_until.reset();
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
  send(config(id), s, now);
}

void RelayManager::set_speed(const std::string& id, int percent) { status_.at(id).speed_pct = percent; }

void RelayManager::release(const std::string& id) {
  const auto it = status_.find(id);
  if (it == status_.end()) return;
  want_nothing(id, it->second);
}

void RelayManager::want_nothing(const std::string& id, RelayStatus& s) {
  s.desired.reset();
  s.armed_until.reset();
  if (stand_) stand_(id, {});
  s.confirm_by.reset();
  s.retry_at.reset();
  s.retries = 0;
  s.unconfirmed = false;
  s.reassert_due = false;
}

void RelayManager::tick(SteadyTime now) {
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    RelayStatus& s = status_.at(r.id);
    // A word awaited for kWordWait of connection: judged on what is known (await_word).
    if (s.awaiting_since && connected_at_ && now - std::max(*s.awaiting_since, *connected_at_) >= kWordWait) {
      const bool stored_on = std::find(start_.stored_on.begin(), start_.stored_on.end(), r.id) != start_.stored_on.end();
      if (s.await_at_start && stored_on && start_.lost_without_word) {
        judged(r, s, now, true, now, "said nothing of its uptime, and the controller itself restarted (a power cut)");
      } else if (!s.await_at_start && s.desired == true && s.observed == false) {
        judged(r, s, now, true, s.last_of_prior_life.value_or(now), "came back OFF, and said nothing of its uptime");
      } else {
        judged(r, s, now, false, now, "");
      }
    }
    if (!s.desired) continue;
    if (dead_man_ran_out(r, s, now)) continue;
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

bool RelayManager::dead_man_ran_out(const RelayConfig& r, RelayStatus& s, SteadyTime now) {
  if (s.desired != true || !s.armed_until || now < *s.armed_until) return false;
  // No refresh went out in time (each one that does moves armed_until): the device switched its
  // load OFF then. The ON that stands for the next connect is withdrawn now, else the link's
  // CONNACK would switch the load back on at once, past its min_off and its stagger. The core
  // takes the load as OFF since then (PowerNews, as a cut): it must earn its start again.
  const SteadyTime off_since = *s.armed_until;
  const std::string why = "its dead-man (" + std::to_string(r.dead_man.count()) +
                          " s) ran out with no refresh sent (the broker away)";
  power_news_.push_back({r.id, off_since, false, why});
  alarms_.push_back({r.id, "relay_power_lost",
                     "the device switched its load OFF by itself: " + why + "; the load must earn its start again"});
  want_nothing(r.id, s);
  return true;
}

void RelayManager::await(const RelayConfig& r, RelayStatus& s, SteadyTime now, bool at_start) {
  if (!s.awaiting_since) {
    s.awaiting_since = now;
    s.await_at_start = at_start;
  }
  // Asked at once (a relay that came back: the link asked only at its own connect), by a manager
  // that commands (a dry run's never connects one).
  if (!at_start && connected_at_) {
    if (auto q = state_query(r, rpc_id_++)) publish_(q->topic, q->payload, 1, false);
  }
}

void RelayManager::judged(const RelayConfig& r, RelayStatus& s, SteadyTime now, bool lost, SteadyTime off_since,
                          std::string why) {
  const bool was_awaited = s.awaiting_since.has_value();
  s.awaiting_since.reset();
  s.await_at_start = false;
  s.last_of_prior_life.reset();
  if (lost) {
    const bool came_on = s.observed == true;
    power_news_.push_back({r.id, off_since, came_on, why});
    alarms_.push_back({r.id, "relay_power_lost",
                       "the device lost its power (" + why + "): its load is OFF since then and must earn its start again" +
                           (came_on ? "; it came back ON by itself" : "")});
    // No state is wanted until the core has taken the news: the next cycle's decision says what.
    want_nothing(r.id, s);
    return;
  }
  if (was_awaited && s.desired == true) send(r, s, now);  // the ON it held goes now
}

void RelayManager::on_uptime(const RelayConfig& r, RelayStatus& s, std::int64_t uptime_s, SteadyTime now) {
  const SteadyTime boot = now - std::chrono::seconds(uptime_s);
  // The latest instant it is known to have been up before: its last start, else (at shackd's
  // start) shackd's last record, else the last message it sent before it came back.
  std::optional<SteadyTime> up_before;
  if (s.boot_at) up_before = *s.boot_at + kBootSlack;
  else if (s.judge_from_start && start_.host_up_since) up_before = *start_.host_up_since - kHostBootSlack;
  else if (s.judge_from_start) up_before = start_.known_up;
  else if (s.last_of_prior_life) up_before = *s.last_of_prior_life + kBootSlack;
  s.judge_from_start = false;
  s.last_of_prior_life.reset();
  const bool restarted = up_before && boot > *up_before;
  s.boot_at = boot;
  if (restarted) {
    judged(r, s, now, true, boot, "it started " + std::to_string(uptime_s) + " s ago, by its uptime");
  } else if (s.awaiting_since) {
    judged(r, s, now, false, now, "");
  }
}

void RelayManager::came_back(const RelayConfig& r, RelayStatus& s, std::optional<SteadyTime> heard_before, SteadyTime now) {
  // Back: from a power cut, a reboot or a dropped connection. Its last sign of life before is what
  // its uptime is held against (on_uptime), and its word is awaited before an ON goes (await).
  s.last_of_prior_life = s.offline_at ? s.offline_at : heard_before;
  await(r, s, now, false);
  // In its power-on state, whatever that is (PowerOnState, a Shelly's default), and with a new
  // session that holds nothing sent before it came: an OFF is told at once, not at the next resend
  // or after a confirmation's time-out; an ON waits for its word.
  if (s.desired) s.reassert_due = true;
  // ... and how it powers up may have changed with it (a web page, a reset): asked again, by a
  // manager that commands (on_connected asked first; a dry run never does).
  if (power_on_.status(r.id).asked_at) power_on_.ask(r.id, now);
}

bool RelayManager::on_message(const std::string& topic, const std::string& payload, SteadyTime now, bool retained) {
  bool consumed = power_on_.on_message(topic, payload, now);
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    const auto o = parse_relay_message(r, topic, payload);
    if (!o) continue;
    consumed = true;
    RelayStatus& s = status_.at(r.id);
    const std::optional<SteadyTime> heard_before = s.heard_at;
    s.heard_at = now;
    if (o->available && o->available != s.available) {
      // Online when first heard of is how a relay should be: news only when it was offline.
      if (s.available || !*o->available) {
        alarms_.push_back({r.id, *o->available ? "relay_online" : "relay_offline",
                           *o->available ? "the device is back" : "the device reports itself offline"});
      }
      if (*o->available) {
        if (s.available == false) {
          came_back(r, s, heard_before, now);
        } else {
          // First heard of: in its power-on state as far as anyone knows (an OFF told at once).
          if (s.desired) s.reassert_due = true;
          if (power_on_.status(r.id).asked_at) power_on_.ask(r.id, now);
        }
      } else if (!s.offline_at) {
        s.offline_at = now;
      }
      s.available = o->available;
    } else if (o->available == true && !retained) {
      // "Online" live, where it was online already: it has just connected to the broker again
      // without its will being seen. The broker restarted (a will is not sent for connections a
      // broker loses by its own end), or it went and came while shackd's link was down. Whatever
      // was sent to it meanwhile went to no one (a relay's clean session keeps nothing), and it
      // may have lost its power: as if it had said Offline before. (A live message carries retain
      // 0, a retained one sent at shackd's subscription 1: MQTT 3.1.1 §3.3.1.3.)
      came_back(r, s, heard_before, now);
    }
    if (o->available != false && (o->available || o->on || o->uptime_s)) s.offline_at.reset();  // a sign of life
    if (o->power_w) {
      s.power_w = o->power_w;
      s.power_at = now;
    }
    std::optional<bool> was;
    if (o->on) {
      was = s.observed;
      if (s.observed != o->on) s.observed_since = now;
      s.observed = o->on;
      s.observed_at = now;
    }
    if (o->uptime_s) on_uptime(r, s, *o->uptime_s, now);
    if (o->on) {
      // A relay that cannot say its uptime is judged by its state: back OFF where ON was wanted
      // (or, at shackd's start, where its load was ON), it lost its power.
      if (s.awaiting_since && !reports_uptime(r)) {
        const bool stored_on =
            std::find(start_.stored_on.begin(), start_.stored_on.end(), r.id) != start_.stored_on.end();
        const bool wanted_on = s.await_at_start ? stored_on : s.desired == true;
        const SteadyTime since = !s.await_at_start && s.last_of_prior_life ? *s.last_of_prior_life : now;
        s.last_of_prior_life.reset();
        judged(r, s, now, wanted_on && !*o->on, since, "came back OFF");
      }
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

void RelayManager::await_word(StartKnown known, SteadyTime now) {
  start_ = std::move(known);
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    RelayStatus& s = status_.at(r.id);
    s.judge_from_start = start_.known_up || start_.host_up_since;
    if (std::find(start_.stored_on.begin(), start_.stored_on.end(), r.id) != start_.stored_on.end()) {
      await(r, s, now, true);
    }
    // Its uptime may have come before the stored state was read (a slow card): judged now.
    if (s.boot_at) {
      const auto boot = *s.boot_at;
      s.boot_at.reset();
      on_uptime(r, s, std::chrono::duration_cast<std::chrono::seconds>(now - boot).count(), now);
    }
  }
}

void RelayManager::carry_over(RelayManager&& old, SteadyTime now) {
  start_ = std::move(old.start_);
  for (auto& n : old.power_news_) power_news_.push_back(std::move(n));
  for (auto& a : old.alarms_) alarms_.push_back(std::move(a));
  old.power_news_.clear();
  old.alarms_.clear();
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    const auto it = old.status_.find(r.id);
    if (it == old.status_.end()) continue;
    const RelayConfig& was = old.config(r.id);
    if (was.protocol != r.protocol || was.topic != r.topic || was.channel != r.channel) continue;  // another device
    RelayStatus& s = status_.at(r.id);
    s = it->second;
    // What the old link's connection was waiting for is the new connection's to ask again.
    s.confirm_by.reset();
    s.reassert_due = false;
    send(r, s, now);  // refused until the new link connects: it stands for its CONNACK
  }
}

std::vector<PowerNews> RelayManager::take_power_news() {
  std::vector<PowerNews> out;
  out.swap(power_news_);
  return out;
}

void RelayManager::on_connected(SteadyTime now) {
  connected_at_ = now;
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    RelayStatus& s = status_.at(r.id);
    s.confirm_by.reset();
    s.reassert_due = false;
    if (dead_man_ran_out(r, s, now)) continue;
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

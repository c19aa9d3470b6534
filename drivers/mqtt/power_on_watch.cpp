#include "drivers/mqtt/power_on_watch.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace drivers::mqtt {

namespace {

const char* risk_name(PowerOnRisk r) {
  switch (r) {
    case PowerOnRisk::off: return "off";
    case PowerOnRisk::on: return "on";
    case PowerOnRisk::follows_input: return "follows_input";
    case PowerOnRisk::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace

PowerOnWatch::PowerOnWatch(SharedRelayConfigs relays, Publish publish)
    : relays_(std::move(relays)), publish_(std::move(publish)) {
  for (const auto& r : relays_) status_[r->id].unreadable = power_on_unreadable(*r);
}

const RelayConfig* PowerOnWatch::config(const std::string& id) const {
  const auto it = std::find_if(relays_.begin(), relays_.end(), [&](const auto& c) { return c->id == id; });
  return it == relays_.end() ? nullptr : it->get();
}

std::vector<std::string> PowerOnWatch::subscriptions() const {
  std::vector<std::string> out;
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    for (auto& s : power_on_subscriptions(r)) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

void PowerOnWatch::ask(const std::string& id, SteadyTime now, bool force) {
  const RelayConfig* r = config(id);
  if (!r) return;
  PowerOnStatus& s = status_.at(id);
  if (!s.unreadable.empty()) return;
  if (!force && s.asked_at && now - *s.asked_at < kAskGap) return;
  const auto q = power_on_query(*r, sequence_++);
  if (!q) return;
  const bool answered = s.asked_at && s.answered_at && *s.answered_at >= *s.asked_at;
  // Never retained: a retained query would be answered at every reboot, by whoever reads it.
  const bool sent = publish_(q->topic, q->payload, 1, false);
  // One not sent (the broker away) counts as one not answered: tried again after the next gap, not
  // each cycle of an outage (every failed publish is counted as dropped); a connect asks at once.
  if (sent || s.asked_at) {
    s.silent_asks = s.asked_at && (!answered || !sent) ? s.silent_asks + 1 : 0;
    s.asked_at = now;
  }
}

void PowerOnWatch::ask_all(SteadyTime now, bool force) {
  for (const auto& r : relays_) ask(r->id, now, force);
}

bool PowerOnWatch::set_off(const std::string& id, SteadyTime now) {
  const RelayConfig* r = config(id);
  if (!r) return false;
  PowerOnStatus& s = status_.at(id);
  const auto q = power_on_set_off(*r, sequence_++);
  if (!q || !publish_(q->topic, q->payload, 1, false)) return false;
  s.set_at = now;
  s.set_taken = false;
  s.refused.clear();
  return true;
}

void PowerOnWatch::told(const RelayConfig& r, PowerOnStatus& s, const PowerOnState& state) {
  s.state = state;
  const auto last = alarmed_.find(r.id);
  if (last != alarmed_.end() && last->second == state.risk) return;
  const bool was_raised = last != alarmed_.end() && last->second != PowerOnRisk::off;
  alarmed_[r.id] = state.risk;
  if (state.risk == PowerOnRisk::off) {
    if (was_raised) alarms_.push_back({r.id, "relay_power_on_ok", "stays OFF after a power cut now: " + state.words});
    return;
  }
  alarms_.push_back({r.id, "relay_power_on", power_on_words(s) + "; " + power_on_fix(r), true});
}

bool PowerOnWatch::on_message(const std::string& topic, const std::string& payload, SteadyTime now) {
  bool consumed = false;
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    const auto a = parse_power_on(r, topic, payload);
    if (!a) continue;
    consumed = true;
    PowerOnStatus& s = status_.at(r.id);
    if (a->changed) {
      if (s.asked_at) ask(r.id, now, true);  // by a watch that asks at all (not a dry run's)
      continue;
    }
    s.answered_at = now;
    s.unanswered = false;
    s.silent_asks = 0;
    if (!a->refused.empty()) {
      s.refused = a->refused;
      continue;
    }
    if (a->set_taken) {
      // A Shelly says only that it took the configuration: what it holds now is asked afresh.
      s.set_taken = true;
      ask(r.id, now, true);
      continue;
    }
    if (!a->state) continue;
    // Tasmota answers a set with the value it now holds: that is the set taken.
    if (s.set_at && !s.set_taken) s.set_taken = true;
    s.refused.clear();
    ++s.answers;
    told(r, s, *a->state);
  }
  return consumed;
}

void PowerOnWatch::tick(SteadyTime now) {
  for (const auto& shared : relays_) {
    const RelayConfig& r = *shared;
    PowerOnStatus& s = status_.at(r.id);
    if (!s.unreadable.empty()) continue;
    if (!s.asked_at) continue;  // asked at a connect by a manager that commands: a dry run never asks
    const bool answered_since = s.answered_at && *s.answered_at >= *s.asked_at;
    const auto since = now - *s.asked_at;
    if (!answered_since && since >= kAnswerWait) s.unanswered = true;
    // Not answered: asked again after kAnswerWait, 2x, 4x ... as long, up to kAskEvery.
    const std::chrono::seconds backoff = kAnswerWait * (1LL << std::min(s.silent_asks, 10));
    const std::chrono::seconds again = answered_since ? kAskEvery : std::min<std::chrono::seconds>(backoff, kAskEvery);
    if (since >= again) ask(r.id, now);
  }
}

std::vector<RelayAlarm> PowerOnWatch::take_alarms() {
  std::vector<RelayAlarm> out;
  out.swap(alarms_);
  return out;
}

std::string power_on_words(const PowerOnStatus& s) {
  if (!s.unreadable.empty()) return "power-on state not readable: " + s.unreadable;
  if (!s.state) {
    if (!s.refused.empty()) return "power-on state not known: the device refused the request (" + s.refused + ")";
    return s.unanswered ? "power-on state not known: the device did not answer" : "power-on state not known yet";
  }
  switch (s.state->risk) {
    case PowerOnRisk::off: return "stays OFF after a power cut: " + s.state->words;
    case PowerOnRisk::on: return "comes back ON by itself after a power cut: " + s.state->words;
    case PowerOnRisk::follows_input: return "may come back ON by itself after a power cut: " + s.state->words;
    case PowerOnRisk::unknown: return "powers up in a way shackd does not know: " + s.state->words;
  }
  return s.state->words;
}

std::string power_on_fix(const RelayConfig& r) {
  const std::string how = power_on_unreadable(r);
  if (!how.empty()) return how;
  return r.protocol == RelayProtocol::tasmota
             ? "`shackd relays power-on-off` sets it to stay OFF (PowerOnState 0, for every relay of the device)"
             : "`shackd relays power-on-off` sets it to stay OFF (initial_state off)";
}

std::string power_on_json(const RelayConfig& r, const PowerOnStatus& s) {
  nlohmann::json j;
  j["protocol"] = protocol_name(r.protocol);
  if (s.state) {
    j["setting"] = s.state->setting;
    j["risk"] = risk_name(s.state->risk);
    j["comes_on"] = s.state->risk == PowerOnRisk::on ? nlohmann::json(true)
                    : s.state->risk == PowerOnRisk::off ? nlohmann::json(false)
                                                        : nlohmann::json();
  } else {
    j["setting"] = nullptr;
    // Not asked yet, or no answer yet: no warning until the device has said something.
    j["risk"] = !s.unreadable.empty() ? "unreadable" : s.unanswered ? "unanswered" : "asking";
    j["comes_on"] = nullptr;
  }
  j["text"] = power_on_words(s);
  if (!s.state || s.state->risk != PowerOnRisk::off) j["fix"] = power_on_fix(r);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace drivers::mqtt

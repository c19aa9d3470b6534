// The miners' own APIs (daemon/miners/fleet.hpp): a worker per configured miner; their reports
// taken with the devices, the soft stop as a pure step of the switch, and what is said about them
// after the relays.
#include "daemon/miners/fleet.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "daemon/core/side_guard.hpp"
#include "daemon/miners/plausible_link.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void MinerFleet::start(const std::vector<drivers::miners::MinerConfig>& miners, const MakeLink& make, Rating rating_w,
                       bool read_only) {
  miners_.clear();
  read_only_ = read_only;
  for (const auto& c : miners) {
    if (!c.kind) continue;
    // Its numbers checked against its kind and rating before anything uses them (issue 48).
    auto link = std::make_unique<PlausibleLink>(c.load_id, *c.kind, make ? make(c) : make_miner_worker(c),
                                                [rating_w, id = c.load_id] { return rating_w ? rating_w(id) : std::nullopt; });
    Side side(c, std::move(link), SoftStop(c.idle_w, std::chrono::duration_cast<rules::Duration>(c.stop_timeout)));
    if (read_only) {
      log::info("miner {}: {} at {}:{}; read only (shadow mode): its own figures, never a command", c.load_id, c.kind->label,
                c.host, c.port);
    } else {
      log::info("miner {}: {} at {}:{}; stops through its API first (idle below {:.0f} W, at most {} s), relay after",
                c.load_id, c.kind->label, c.host, c.port, c.idle_w, c.stop_timeout.count());
    }
    miners_.emplace(c.load_id, std::move(side));
  }
}

void MinerFleet::clear() { miners_.clear(); }

const drivers::miners::MinerConfig* MinerFleet::config(const std::string& load_id) const {
  const auto it = miners_.find(load_id);
  return it == miners_.end() ? nullptr : &it->second.config;
}

// Each miner's report since the last cycle, taken without waiting (MinerLink::take swaps a queue).
// Its telemetry feeds the snapshot; its finished commands the soft stop; what is to be said about
// them waits for `tell`.
void MinerFleet::take_reports(rules::SteadyTime now, const std::function<void(const char*)>& failed) {
  for (auto& [id, m] : miners_) {
    try {
      MinerReport report = m.link->take();
      m.sleep_done.reset();
      for (auto& done : report.done) {
        if (done.order.command == MinerCommand::sleep) m.sleep_done = done.result;
        m.done.push_back(std::move(done));
      }
      // Bounded: a side job that failed for many cycles leaves at most this many to tell.
      while (m.done.size() > 64) m.done.erase(m.done.begin());
      if (report.telemetry) {
        if (report.telemetry->answered) {
          m.latest = std::move(report.telemetry);
          m.latest_at = now;
          m.answered_news = true;
        } else {
          m.unanswered = std::move(report.telemetry->error);
        }
      }
    } catch (const std::exception& e) {
      failed(e.what());
    } catch (...) {
      failed("an unknown exception");
    }
  }
}

// The switch step for a miner with an API (pure: the soft stop's sequencing, no I/O but a
// command queued to its worker): whether its relay is on this cycle.
bool MinerFleet::relay(const std::string& load_id, const rules::LoadDecision& d, rules::SteadyTime now) {
  const auto it = miners_.find(load_id);
  // Read only: no soft stop (it would send a sleep); the relay is not ours either.
  if (it == miners_.end() || read_only_) return d.on;
  Side& m = it->second;
  SoftStopInput in;
  in.want_on = d.on;
  // The rules' word, every cycle the safety reason holds: not the reason's code alone, which for
  // a miner already decided off says why it waits (issue 48).
  in.urgent = d.safety_stop;
  // Stopped because the battery paid while its target came down: the rules gave it half of the
  // minute the bank may pay (rules::detail::kTargetPayStop); the relay has the rest, less a cycle.
  // The stop keeps it for its whole length (SoftStop).
  if (d.reason.code == rules::ReasonCode::target_too_slow) in.cut_within = std::chrono::seconds(20);
  in.answering = m.fresh(now);
  in.latest = m.latest;
  in.latest_at = m.latest_at;
  in.sleep_done = std::exchange(m.sleep_done, std::nullopt);
  const SoftStopStep step = m.stop.step(in, now);
  if (step.send) m.link->send({*step.send});
  if (!step.note.empty()) m.notes.push_back(step.note);
  if (step.relay_on && !m.powered_at) m.powered_at = now;
  if (!step.relay_on) {
    m.powered_at.reset();
    m.boot_warned = false;
  }
  m.running = step.relay_on && !m.stop.stopping();
  return step.relay_on;
}

// After the relays: what the miner's report and stop step are to say (events, log lines,
// <prefix>/load/<id>/miner) and its power target.
void MinerFleet::tell(const LoadRef& l, const rules::LoadDecision& d, rules::SteadyTime now, MinerSink& sink) {
  const auto it = miners_.find(l.id);
  if (it == miners_.end()) return;
  Side& m = it->second;
  for (const auto& note : std::exchange(m.notes, {})) log::info("miner {}: {}", l.id, note);
  TargetWatchInput watch_in;
  for (const auto& [order, result] : std::exchange(m.done, {})) {
    if (order.command == MinerCommand::target) watch_in.write = result;
    if (order.command == MinerCommand::target && result.ok) m.target_taken_at = now;
    // Each command through its API is an actuation of the load, with no relay state: in the
    // history, and the targets in the day report.
    if (order.command == MinerCommand::target && result.ok) {
      m.target_taken = order.watts;
      log::info("miner {}: power target {:.0f} W ({})", l.id, order.watts, rules::describe(m.target_reason));
      sink.actuation(l.id, m.target_reason, fmt::format("power target {:.0f} W through its API", order.watts), order.watts);
    } else if (order.command != MinerCommand::target) {
      sink.actuation(l.id, d.reason,
                     fmt::format("{} through its API: {}", command_name(order.command),
                                 result.ok ? std::string("accepted") : "refused: " + result.detail),
                     std::nullopt);
    }
    if (!result.ok) log::warn("miner {}: {} refused: {}", l.id, command_name(order.command), result.detail);
  }
  if (std::exchange(m.answered_news, false)) {
    if (!m.error.empty()) log::info("miner {}: its API answers ({})", l.id, m.latest->firmware);
    m.error.clear();
    if (m.latest) sink.miner_state(l.id, state_facts(m));
  }
  if (m.unanswered) {
    std::string error = std::move(*m.unanswered);
    m.unanswered.reset();
    if (error != m.error) {
      m.error = std::move(error);
      // A miner that answered and stopped is news; one not yet up (unpowered, or within its
      // boot since the relay closed) is not: a power-on is not a warning.
      const bool up = m.powered_at && (m.latest_at >= *m.powered_at || now - *m.powered_at >= m.config.boot);
      if (m.latest && (m.stop.stopping() || (d.on && up))) log::warn("miner {}: its API does not answer: {}", l.id, m.error);
    }
  }
  // Powered for its whole boot and not one answer: the owner is told once a power-on.
  if (d.on && m.powered_at && !m.boot_warned && now - *m.powered_at >= m.config.boot &&
      !(m.latest && m.latest_at >= *m.powered_at)) {
    m.boot_warned = true;
    log::warn("miner {}: no answer from its API within {} s of power on (miners.{}.boot_s){}; its relay alone stops it",
              l.id, m.config.boot.count(), l.id, m.error.empty() ? "" : ": " + m.error);
  }
  watch_target(l, d, m, watch_in, now);
  // Read only: the target is decided (the rules' word, published), never sent.
  deliver_target(l, d, m, m.running && !read_only_, m.fresh(now), now);
}

// The rules' target reaches the miner once its API answers (after a boot), a new one at once, and
// again when it was refused, at most every 30 s: the rules limit the changes, this only delivers them.
void MinerFleet::deliver_target(const LoadRef& l, const rules::LoadDecision& d, Side& m, bool running, bool answering,
                                rules::SteadyTime now) {
  if (!d.target_w || !running) {
    m.target_wanted.reset();
    m.target_taken.reset();
    m.target_sent_w.reset();
    return;
  }
  m.target_wanted = d.target_w;
  if (d.target_changed || m.target_reason.code == rules::ReasonCode::none) m.target_reason = d.target_reason;
  if (!answering || m.target_taken == m.target_wanted) return;
  // The same target again (refused, or not yet answered) at most every 30 s; a new one at once:
  // a lowering that waited here let the bank pay for 30 s more (issue 46).
  if (m.target_sent_at && m.target_sent_w == m.target_wanted && now - *m.target_sent_at < std::chrono::seconds(30)) return;
  m.link->send({MinerCommand::target, *m.target_wanted});
  m.target_sent_at = now;
  m.target_sent_w = m.target_wanted;
  log::debug("miner {}: sending power target {:.0f} W", l.id, *m.target_wanted);
}

std::optional<double> miner_rating_w(const StoredProfiles& profiles, const std::string& load_id) {
  for (std::size_t i = 0; i < profiles.miners.size() && i < profiles.rules.miners.size(); ++i) {
    if (profiles.miners[i].relay_id == load_id && profiles.rules.miners[i].power_w > 0) return profiles.rules.miners[i].power_w;
  }
  return std::nullopt;
}

// Whether it follows its target (daemon/miners/target_watch.hpp): told once in the log when it
// does not, and a device alarm from then on (its event in the history); the rules then run it as
// a miner without one.
void MinerFleet::watch_target(const LoadRef& l, const rules::LoadDecision& d, Side& m, TargetWatchInput& in,
                              rules::SteadyTime now) {
  if (!m.config.target) return;
  in.following = d.on && d.target_w && m.powered_at && !m.stop.stopping();
  in.taken_w = m.target_taken;
  in.taken_at = m.target_taken_at;
  in.latest = m.latest;
  in.latest_at = m.latest_at;
  if (const auto why = m.watch.step(in, now)) {
    log::warn("miner {}: does not follow its power target: {}; no more target writes, it runs on and off as a miner "
              "without one until shackd restarts",
              l.id, *why);
  }
}

std::optional<double> MinerFleet::draw_w(const std::string& load_id, rules::SteadyTime now) const {
  const auto it = miners_.find(load_id);
  // Fresh as "answering" is judged for a stop.
  if (it == miners_.end() || !it->second.latest || !it->second.latest->power_w || !it->second.fresh(now)) return std::nullopt;
  return it->second.latest->power_w;
}

bool MinerFleet::Side::fresh(rules::SteadyTime now) const {
  const auto within =
      std::max<rules::Duration>(3 * std::chrono::duration_cast<rules::Duration>(config.poll), std::chrono::seconds(30));
  return latest && now - latest_at <= within;
}

std::optional<double> MinerFleet::Side::temp_limit_c() const {
  if (config.overheat_c) return config.overheat_c;
  return latest ? latest->hot_temp_c : std::nullopt;
}

void MinerFleet::readings(const std::vector<LoadRef>& loads, rules::Snapshot& snap) const {
  for (const auto& l : loads) {
    if (l.kind != LoadRef::Kind::miner) continue;
    const auto it = miners_.find(l.id);
    if (it == miners_.end()) continue;
    const Side& m = it->second;
    // The limit is known from the config alone; the readings only once it answered.
    if (const auto limit = m.temp_limit_c()) {
      if (snap.miner_temp_limit_c.size() <= l.index) snap.miner_temp_limit_c.resize(l.index + 1);
      snap.miner_temp_limit_c[l.index] = limit;
    }
    // Its relay still closed, the rules having let it go (a soft stop under way), and whether it
    // follows its target: facts the rules decide with (rules::Snapshot).
    if (snap.miner_powered.size() <= l.index) snap.miner_powered.resize(l.index + 1, false);
    snap.miner_powered[l.index] = m.powered_at.has_value();
    if (snap.miner_target_ignored.size() <= l.index) snap.miner_target_ignored.resize(l.index + 1, false);
    snap.miner_target_ignored[l.index] = m.watch.ignored();
    if (!m.latest) continue;
    if (m.latest->power_w) {
      if (snap.miner_w.size() <= l.index) snap.miner_w.resize(l.index + 1);
      snap.miner_w[l.index] = rules::Reading{*m.latest->power_w, m.latest_at};
    }
    if (m.latest->max_temp_c) {
      if (snap.miner_temp_c.size() <= l.index) snap.miner_temp_c.resize(l.index + 1);
      snap.miner_temp_c[l.index] = rules::Reading{*m.latest->max_temp_c, m.latest_at};
    }
  }
}

// An overheat is an alarm while the rules hold the miner off for it (rules::LoadState::
// overheat_until: the cooldown, and until it reads cooler): asleep, its chips cool in seconds,
// and an alarm that cleared then would hide why it stays off.
void MinerFleet::add_status(drivers::DeviceStatus& out, const std::vector<LoadRef>& loads, const rules::State& state,
                            rules::SteadyTime now) const {
  for (const auto& l : loads) {
    const auto it = miners_.find(l.id);
    if (l.kind != LoadRef::Kind::miner || it == miners_.end()) continue;
    const Side& m = it->second;
    if (m.fresh(now)) {
      const auto& t = *m.latest;
      std::string words(drivers::miners::state_name(t.state));
      if (t.power_w) words += fmt::format(", {:.0f} W", *t.power_w);
      if (t.hashrate_ths) words += fmt::format(", {:.1f} TH/s", *t.hashrate_ths);
      if (t.max_temp_c) words += fmt::format(", {:.0f} °C", *t.max_temp_c);
      out.states.push_back({l.id + ".miner", words});
    }
    if (m.watch.ignored()) {
      out.alarms.push_back({l.id + ".target_ignored", l.id, l.id + ".power_w",
                            "it does not follow its power target: " + m.watch.why() + "; it runs on and off without one", true});
    }
    const auto limit = m.temp_limit_c();
    if (limit && l.index < state.miners.size() && state.miners[l.index].overheat_until) {
      out.alarms.push_back({l.id + ".overheat", l.id, l.id + ".max_temp_c",
                            fmt::format("its hottest sensor reached its limit, {:.0f} °C ({}): kept off to cool down", *limit,
                                        m.config.overheat_c ? "overheat_c" : "its firmware's hot limit"),
                            false});
    }
  }
}

// <prefix>/load/<id>/miner: what the miner says of itself, as it arrives (rendered by the
// publisher, daemon/vocab/miner_state.hpp).
MinerStateFacts MinerFleet::state_facts(const Side& m) {
  return {*m.latest, m.temp_limit_c(), m.target_wanted, m.target_reason};
}

void MinerFleet::after_cycle(const std::vector<LoadRef>& loads, const rules::Decision& d, const rules::Snapshot& snap,
                             rules::SteadyTime now, std::int64_t wall_s, Events& events, const StateOut& state,
                             LoopStats& stats) {
  struct Sink final : MinerSink {
    Events& events;
    const StateOut& state;
    const rules::Decision& d;
    const rules::Snapshot& snap;
    std::int64_t wall_s;
    Sink(Events& e, const StateOut& s, const rules::Decision& dd, const rules::Snapshot& sn, std::int64_t w)
        : events(e), state(s), d(dd), snap(sn), wall_s(w) {}
    void actuation(const std::string& load_id, const rules::Reason& reason, const std::string& detail,
                   std::optional<double> target_w) override {
      EventNote n = about_cycle(load_event("actuation", load_id, reason, detail, wall_s), snap, d);
      n.target_w = target_w;
      events.add(n);
    }
    // Values to the publisher's ordered queue: its thread renders the JSON (issue 44).
    void miner_state(const std::string& load_id, MinerStateFacts facts) override { state(load_id, std::move(facts)); }
  } sink(events, state, d, snap, wall_s);
  for (const auto& l : loads) {
    if (!config(l.id)) continue;
    guarded(stats, SideJob::events, [&] { tell(l, decision_for(d, l), now, sink); });
  }
}

}  // namespace shackd

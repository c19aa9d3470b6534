#include "daemon/core/safety_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "daemon/system/clock.hpp"
#include "daemon/system/log.hpp"
#include "rules/decide.hpp"

namespace shackd {

void SafetyCore::take_site(CoreSite site, rules::State state) {
  site_ = std::make_shared<const CoreSite>(std::move(site));
  state_ = std::move(state);
}

std::vector<OverrideRequest> SafetyCore::take_overrides() {
  std::vector<OverrideRequest> taken;
  for (auto& r : overrides_.take()) {
    const LoadRef* load = nullptr;
    for (const auto& l : site_->loads) {
      if (l.state_key == r.state_key) load = &l;
    }
    if (!load) continue;  // gone with a reload since it came
    state_of(state_, *load).override_ = r.value;
    taken.push_back(std::move(r));
  }
  return taken;
}

std::vector<SafetyCore::PowerLost> SafetyCore::take_power_news(std::vector<drivers::mqtt::PowerNews> news,
                                                              rules::SteadyTime now) {
  std::vector<PowerLost> taken;
  for (auto& n : news) {
    for (const auto& l : site_->loads) {
      if (l.id != n.relay_id) continue;
      rules::LoadState& st = state_of(state_, l);
      const bool was_on = st.on;
      // OFF before too: its minimum off time counts from the relay's start at the earliest (the
      // last record may be older than an ON the run before sent just ahead of the cut).
      rules::lose_power(st, n.came_on ? now : n.off_since);
      taken.push_back({l, n, was_on});
    }
  }
  return taken;
}

bool SafetyCore::decide(rules::SteadyTime now, std::int64_t wall_s, const std::function<void(rules::Snapshot&)>& extend) {
  // A record of its own each cycle: the last one may be in a component's hands (the publisher's
  // thread). Not recycled: knowing that nobody holds the old one any more would take an acquire
  // that shared_ptr's use_count() does not give (the snapshot allocates each cycle anyway).
  auto next = std::make_shared<CycleRecord>();
  try {
    next->now = now;
    next->wall_s = wall_s;
    next->site = site_;
    next->snap = drivers::build_snapshot(devices_.readings(), site_->mapping, now, local_minute(wall_s));
    if (extend) extend(next->snap);
    rules::decide(next->snap, site_->profiles.rules, state_, next->decision);
    state_ = next->decision.next;
    record_ = std::move(next);
    sealed_ = false;
    return true;
  } catch (const std::exception& e) {
    // No decision this cycle: the relays keep what they were last told (and their dead-man),
    // and no watchdog ping, so that systemd restarts a loop that can no longer decide.
    ++counts_.undecided;
    log::limited("undecided", log::Level::error, fmt::format("cycle undecided: {}", e.what()));
    return false;
  }
}

// The safety path's last step before the watchdog. Each load in its own guard: one that throws
// (a miner's stop step) leaves every other load switched, and the cycle unswitched (no ping).
// Nothing here logs a switch or records it: that follows the ping.
bool SafetyCore::apply(rules::SteadyTime now, drivers::mqtt::RelayManager* relays, bool dry_run,
                       const MinerRelay& miner_relay) {
  bool all = true;
  for (const auto& l : site_->loads) {
    try {
      const auto& d = decision_for(record_->decision, l);
      if (relays && !dry_run) {
        relays->set_desired(l.id, l.kind == LoadRef::Kind::miner && miner_relay ? miner_relay(l, d, now) : d.on, now);
        const auto& zones = site_->profiles.rules.zones;
        if (l.kind == LoadRef::Kind::fan && zones[l.index].fan_speed_control) {
          relays->set_speed(l.id, d.fan_speed * 100 / std::max(1, zones[l.index].fan_max_speed));
        }
      }
    } catch (const std::exception& e) {
      all = false;
      ++counts_.unswitched;
      log::limited("switch " + l.id, log::Level::error, fmt::format("{}: relay not switched this cycle: {}", l.name, e.what()));
    }
  }
  try {
    if (relays) relays->tick(now);
  } catch (const std::exception& e) {
    all = false;
    ++counts_.unswitched;
    log::limited("switch tick", log::Level::error, fmt::format("relays not re-sent this cycle: {}", e.what()));
  }
  return all;
}

CycleRecordPtr SafetyCore::seal(const std::function<void(CycleRecord&)>& add) {
  if (sealed_) record_ = std::make_shared<CycleRecord>(*record_);  // undecided: the last one is shared
  record_->site = site_;
  if (add) add(*record_);
  sealed_ = true;
  return record_;
}

bool SafetyCore::all_off(const std::set<std::string>& ids, rules::SteadyTime now, drivers::mqtt::RelayManager& relays) {
  bool switched = true;
  for (const auto& id : ids) {
    try {
      relays.set_desired(id, false, now);
    } catch (const std::exception& e) {
      switched = false;
      ++counts_.unswitched;
      log::limited("switch " + id, log::Level::error, fmt::format("relay {}: not switched OFF this cycle: {}", id, e.what()));
    }
  }
  try {
    relays.tick(now);
  } catch (const std::exception& e) {
    switched = false;
    ++counts_.unswitched;
    log::limited("switch tick", log::Level::error, fmt::format("relays not re-sent this cycle: {}", e.what()));
  }
  return switched;
}

}  // namespace shackd

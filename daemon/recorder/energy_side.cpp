#include "daemon/recorder/energy_side.hpp"

#include <chrono>

#include "daemon/site/loads.hpp"
#include "daemon/store/runtime_store.hpp"

namespace shackd {

void EnergySide::after_cycle(const CycleRecord& r, const std::string& day, rules::SteadyTime now, Records& records,
                             Recorder* recorder) {
  std::vector<Draw> draws;
  draws.reserve(r.loads().size() + 3);
  for (const auto& l : r.loads()) {
    Draw d{l.state_key, decision_for(r.decision, l).on, std::nullopt, rated_draw_w(r.profiles().rules, l)};
    if (const auto it = r.relay.find(l.id); r.relays && it != r.relay.end()) {
      // What the relay says beats what was commanded; a meter's word, while fresh (Tasmota's
      // TelePeriod is 300 s by default), beats the rating.
      const RelayFacts& st = it->second;
      if (st.observed) d.on = *st.observed;
      // A reading from before the relay last switched is about the other state: a plug that
      // reports every 300 s would count a fresh start at 0 W for minutes.
      const bool current = st.power_at && (!st.observed_since || *st.power_at >= *st.observed_since);
      if (st.power_w && current && now - *st.power_at <= std::chrono::minutes(10)) d.metered_w = st.power_w;
    }
    // Else a miner's own word on its draw (its API), while it answers: nearer than its rating,
    // above all for one that follows a power target or sleeps with its relay on.
    if (!d.metered_w) {
      if (const auto it = r.own_draw_w.find(l.id); it != r.own_draw_w.end()) d.metered_w = it->second;
    }
    draws.push_back(std::move(d));
  }
  for (auto& f : site_flows(r.snap, r.decision.battery.measured_v, r.profiles().rules.site.electrical_stale_after)) {
    draws.push_back(std::move(f));
  }
  account(day, now, draws, records, recorder);
}

void EnergySide::account(const std::string& day, rules::SteadyTime now, const std::vector<Draw>& draws, Records& records,
                         Recorder* recorder) {
  const std::string counting = meter_.day();
  if (const auto finished = meter_.tick(day, now, draws)) {
    for (const auto& [id, e] : finished->totals) records.energy[{finished->day, id}] = e;
  }
  if (meter_.day() != counting && recorder) {
    // Carry on from what is stored for the day rather than write a fresh count over it.
    recorder->post_task([mail = mail_, d = day](db::Db&, RuntimeStore& store) {
      auto stored = store.energy_on(d);
      std::lock_guard l(mail->m);
      mail->stored = std::make_pair(d, std::move(stored));
    });
  }
  take_mail();
  for (const auto& [id, e] : meter_.totals()) records.energy[{meter_.day(), id}] = e;
}

// What the recorder read, with this process's count of the same day added to it; a read of a day
// that has passed meanwhile is dropped (that day's totals were stored as counted).
void EnergySide::take_mail() {
  std::optional<std::pair<std::string, std::map<std::string, LoadEnergy>>> got;
  {
    std::lock_guard l(mail_->m);
    got = std::exchange(mail_->stored, std::nullopt);
  }
  if (!got) return;
  auto& [stored_day, stored] = *got;
  if (stored_day != meter_.day() || stored.empty()) return;
  for (const auto& [id, e] : meter_.totals()) {
    LoadEnergy& t = stored[id];
    t.wh += e.wh;
    t.on_s += e.on_s;
    t.metered_s += e.metered_s;
    t.unrated_s += e.unrated_s;
  }
  meter_.restore(stored_day, std::move(stored));
}

}  // namespace shackd

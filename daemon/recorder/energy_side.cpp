#include "daemon/recorder/energy_side.hpp"

#include "daemon/store/runtime_store.hpp"

namespace shackd {

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

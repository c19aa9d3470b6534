#include "daemon/recorder/store_side.hpp"

#include "daemon/system/clock.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "daemon/store/load_state_rows.hpp"
#include "daemon/vocab/render.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void StoreSide::take(std::unique_ptr<db::Db> db, std::unique_ptr<RuntimeStore> store, std::map<std::string, LoadStateRow> rows,
                     AcOverloadRows ac_overloads) {
  db_ = std::move(db);
  store_ = std::move(store);
  rows_ = std::move(rows);
  ac_rows_ = std::move(ac_overloads);
}

void StoreSide::start_recorder(RecorderOptions options) {
  options.event_fate = event_fate_;
  recorder_ = std::make_unique<Recorder>(std::move(db_), std::move(store_), std::move(options));
}

void StoreSide::after_cycle(const CycleRecord& r, std::string journal_header, std::string journal_lines,
                            const rules::State& state, rules::SteadyTime now, std::int64_t wall_s) {
  const rules::Snapshot& snap = r.snap;
  TelemetrySample s;
  s.battery_v = r.decision.battery.measured_v;
  s.soc_pct = r.decision.battery.soc_pct;
  if (snap.pv_w) s.pv_w = snap.pv_w->value;
  if (snap.load_w) s.load_w = snap.load_w->value;
  if (const auto* t = source_at(snap.battery_temp_c, r.decision.charge_temp_source)) s.battery_temp_c = t->reading->value;
  const auto& zones = r.profiles().rules.zones;
  for (std::size_t i = 0; i < zones.size() && i < snap.zone_temp_c.size(); ++i) {
    s.zone_temps_c.emplace_back(zones[i].name, snap.zone_temp_c[i] ? std::optional<double>(snap.zone_temp_c[i]->value) : std::nullopt);
  }
  s.journal_header = std::move(journal_header);
  s.journal_lines = std::move(journal_lines);
  // The AC sources' overloads (issue 59): a row when one begins and once it is over, so that a
  // restart holds the starts as this run would have.
  for (auto& [key, row] : ac_overload_changes(r.profiles().rules, state.site, ac_rows_, now, wall_s)) {
    records_.ac_overloads[key] = row;
  }
  persist(std::move(s), r.loads(), state, now, wall_s);
}

void StoreSide::persist(TelemetrySample sample, const std::vector<LoadRef>& loads, const rules::State& state,
                        rules::SteadyTime now, std::int64_t wall_s) {
  records_.samples.emplace_back(wall_s, std::move(sample));
  for (const auto& l : loads) {
    const auto it = rows_.find(l.state_key);
    const bool ov = changed_.count(l.state_key) > 0;
    LoadStateRow row = persist_load(l.state_key, state_of(state, l), it == rows_.end() ? nullptr : &it->second, now, wall_s, ov);
    // Only a row that changed goes over (the store compares again with what it wrote).
    if (it == rows_.end() || !(it->second == row)) records_.states[l.state_key] = row;
    rows_[l.state_key] = std::move(row);
  }
  changed_.clear();
  records_.wall_s = wall_s;
  if (recorder_) recorder_->post(std::exchange(records_, {}));
}

void StoreSide::hold(LoopStats& stats) {
  Records held;
  const RecorderOptions limits{};
  std::vector<std::uint64_t> dropped;
  const auto samples_lost =
      merge_records(held, std::exchange(records_, {}), limits.max_events, limits.max_samples, &dropped).second;
  records_ = std::move(held);
  if (event_fate_) {
    for (const auto seq : dropped) event_fate_(seq, false);
  }
  stats.samples_unstored += samples_lost;
}

std::vector<StoreSide::Alarm> StoreSide::tell(LoopStats& stats) {
  std::vector<Alarm> alarms;
  if (!recorder_) return alarms;
  stats_ = recorder_->stats();
  stats.store_queued = stats_.queued;
  stats.store_errors = stats_.errors;
  // The events' losses are their fates' (daemon/events/event_fates.hpp), counted by the loop; a
  // telemetry minute the store gave up is a sample's.
  stats.samples_unstored = stats_.samples_lost + (stats_.store_dropped - stats_.store_events_dropped);
  stats.store_write_s = stats_.writing_s;
  for (auto& n : recorder_->take_notes()) {
    switch (n.kind) {
      // One alarm when the store stops writing and one end with the count when it writes again:
      // never an event a cycle (3,600 an hour onto a fleet's bridge, issue 48). On MQTT only:
      // the store is what cannot take them.
      case RecorderNote::Kind::store_failing:
        log::warn("{}", n.text);
        alarmed_ = true;
        alarms.push_back({true, n.text, false});
        break;
      case RecorderNote::Kind::store_still_failing: log::warn("{}", n.text); break;
      case RecorderNote::Kind::store_ok:
        log::info("{}", n.text);
        if (std::exchange(alarmed_, false)) alarms.push_back({false, n.text, false});
        break;
      case RecorderNote::Kind::rows_rejected:
        // A row the schema refused is dropped alone (RuntimeStore::run_row), the rest written:
        // an alarm at the first, then the log (a few lines a minute), the count in status.
        if (n.first) alarms.push_back({true, "store_rejected: " + n.text, false});
        log::limited("store_rejected", log::Level::warn, n.text);
        break;
      case RecorderNote::Kind::lost:
        log::warn("{}", n.text);
        alarms.push_back({true, n.text, true});
        break;
      case RecorderNote::Kind::database_file:
        log::error("{}", n.text);
        alarms.push_back({true, "database_file: " + n.text, true});
        break;
      case RecorderNote::Kind::info: log::warn("{}", n.text); break;
    }
  }
  return alarms;
}

void StoreSide::report(LoopStats& stats, Events& events, std::int64_t wall_s) {
  for (const auto& a : tell(stats)) {
    EventNote n = site_event(alarm_kind(a.raised), a.text, wall_s);
    n.stored = a.stored;
    events.add(n);
  }
}

void StoreSide::count_energy(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall_s) {
  const auto day = local_day(wall_s);
  if (!day) return;  // no trusted date yet to count into
  energy_.after_cycle(record, *day, now, records_, recorder_.get());
}

bool StoreSide::with_db(const std::function<void(db::Db&)>& f, std::chrono::milliseconds bound) {
  if (recorder_) return recorder_->call(f, bound);
  if (!db_) return false;
  f(*db_);
  return true;
}

drivers::thread::Stopped StoreSide::stop(std::int64_t wall_s, const drivers::thread::Deadline& deadline) {
  const auto began = deadline.now();
  if (!recorder_) return drivers::thread::Stopped::end("recorder", deadline, began, true);
  const auto bound = deadline.capped(kLastWriteBound).left();
  records_.wall_s = wall_s;
  recorder_->post(std::exchange(records_, {}));
  const bool done = recorder_->stop(bound);
  const std::size_t lost = done ? 0 : recorder_->stats().queued;  // before its notes: what it had left
  for (const auto& n : recorder_->take_notes()) log::warn("{}", n.text);
  if (done) return drivers::thread::Stopped::end("recorder", deadline, began, true);
  return drivers::thread::Stopped::end(
      "recorder", deadline, began, false,
      fmt::format("the last write did not finish within {} ms; {} event(s) and load state(s) not written", bound.count(), lost));
}

void StoreSide::close() {
  recorder_.reset();  // the last close checkpoints the WAL (in memory: written back at its stop)
  store_.reset();
  db_.reset();
}

}  // namespace shackd

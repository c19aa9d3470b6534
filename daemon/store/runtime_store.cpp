#include "daemon/store/runtime_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace shackd {

std::string iso_utc(std::int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

void RuntimeStore::Agg::add(const std::optional<double>& v) {
  if (!v) return;  // a missing reading is not a 0 in the average
  if (n == 0) min = max = *v;
  min = std::min(min, *v);
  max = std::max(max, *v);
  sum += *v;
  ++n;
}

RuntimeStore::RuntimeStore(db::Db& db) : db_(db) {}

std::map<std::string, LoadStateRow> RuntimeStore::load_states() {
  auto s = db_.prepare(
      "SELECT load_id, commanded_on, since, last_start, last_stop, starts_this_hour, override_mode, override_until, "
      "on_seconds, relay_cycles FROM load_state");
  std::map<std::string, LoadStateRow> out;
  while (s.step()) {
    LoadStateRow r;
    r.load_id = s.text(0);
    r.commanded_on = s.integer(1) != 0;
    r.since = s.opt_text(2);
    r.last_start = s.opt_text(3);
    r.last_stop = s.opt_text(4);
    r.starts_this_hour = static_cast<int>(s.integer(5));
    r.override_mode = s.text(6);
    r.override_until = s.opt_text(7);
    r.on_seconds = s.integer(8);
    r.relay_cycles = s.integer(9);
    out[r.load_id] = r;
  }
  written_ = out;
  return out;
}

void RuntimeStore::set_load_state(const LoadStateRow& row) {
  const auto w = written_.find(row.load_id);
  if (w != written_.end() && w->second == row) {
    states_.erase(row.load_id);  // back to what is on disk: nothing to write
    return;
  }
  states_[row.load_id] = row;
}

void RuntimeStore::add_event(Event event) {
  events_.push_back(std::move(event));
  trim();
}

void RuntimeStore::add_sample(std::int64_t unix_s, const TelemetrySample& sample) {
  const std::int64_t minute = unix_s - (unix_s % 60 + 60) % 60;
  if (current_ && current_->start_s != minute) {
    done_.push_back(std::move(*current_));
    current_.reset();
    trim();
  }
  if (!current_) {
    current_ = Minute{};  // (not emplace(): clang 14 rejects it for a nested aggregate)
    current_->start_s = minute;
  }
  Minute& m = *current_;
  ++m.samples;
  m.battery_v.add(sample.battery_v);
  m.soc_pct.add(sample.soc_pct);
  m.pv_w.add(sample.pv_w);
  m.load_w.add(sample.load_w);
  m.battery_temp_c.add(sample.battery_temp_c);
  for (const auto& [zone, temp] : sample.zone_temps_c) m.zones[zone].add(temp);
  if (!sample.journal_lines.empty()) {
    // Each minute's text stands alone: it names its zones first, and again when they change.
    if (m.journal.empty() || m.journal_header != sample.journal_header) {
      m.journal += sample.journal_header + '\n';
      m.journal_header = sample.journal_header;
    }
    m.journal += sample.journal_lines + '\n';
  }
}

void RuntimeStore::set_energy(const std::string& day, const std::string& load_id, const LoadEnergy& e) {
  DayLoad key{day, load_id};
  const auto w = energy_written_.find(key);
  if (w != energy_written_.end() && w->second == e) {
    energy_.erase(key);
    return;
  }
  energy_[std::move(key)] = e;
}

std::map<std::string, LoadEnergy> RuntimeStore::energy_on(const std::string& day) {
  std::map<std::string, LoadEnergy> out;
  auto s = db_.prepare("SELECT load_id, wh, on_s, metered_s, unrated_s FROM load_energy WHERE day = ?");
  s.bind(1, day);
  while (s.step()) {
    LoadEnergy e{s.real(1), s.real(2), s.real(3), s.real(4)};
    energy_written_[{day, s.text(0)}] = e;
    out[s.text(0)] = e;
  }
  return out;
}

void RuntimeStore::trim() {
  while (events_.size() + done_.size() > max_queued) {
    if (!done_.empty()) {
      done_.pop_front();  // telemetry goes before events
    } else {
      if (event_fate) event_fate(events_.front().seq, false);
      events_.pop_front();
      ++events_dropped_;
    }
    ++dropped_;
  }
}

// One row of a flush. A row the schema refuses (a CHECK, a NOT NULL, a value too big: a miner's
// -50 W made a day's energy negative, and load_energy's CHECK then failed the whole transaction,
// events and telemetry with it, every minute: issue 48) is dropped and counted, and the rest of
// the transaction commits: under SQLite's default ABORT only the failing statement is undone
// (sqlite.org/lang_conflict.html). Any other error (a full disk, a lock, an I/O error) is the
// whole flush's: thrown, and everything stays queued.
bool RuntimeStore::run_row(db::Stmt& s, const char* table, FlushStats& stats) {
  try {
    s.run();
    return true;
  } catch (const db::Error& e) {
    const int c = e.code() & 0xff;
    if (c != SQLITE_CONSTRAINT && c != SQLITE_MISMATCH && c != SQLITE_TOOBIG && c != SQLITE_RANGE) throw;
    s.reset();
    ++stats.rejected;
    ++rejected_;
    last_rejection_ = std::string(table) + ": " + e.what();
    return false;
  }
}

FlushStats RuntimeStore::flush(std::int64_t unix_now, bool force) {
  FlushStats stats;
  if (force && current_) {  // shutting down: the minute in progress is written too
    done_.push_back(std::move(*current_));
    current_.reset();
  }
  const bool telemetry_due = !done_.empty() && (force || unix_now - last_telemetry_write_s_ >= telemetry_every_s);
  if (states_.empty() && events_.empty() && !telemetry_due) return stats;

  db::Transaction tx(db_);
  if (!states_.empty()) {
    auto up = db_.prepare(
        "INSERT INTO load_state (load_id, commanded_on, since, last_start, last_stop, starts_this_hour, "
        "override_mode, override_until, on_seconds, relay_cycles, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
        "ON CONFLICT(load_id) DO UPDATE SET commanded_on = excluded.commanded_on, since = excluded.since, "
        "last_start = excluded.last_start, last_stop = excluded.last_stop, "
        "starts_this_hour = excluded.starts_this_hour, override_mode = excluded.override_mode, "
        "override_until = excluded.override_until, on_seconds = excluded.on_seconds, "
        "relay_cycles = excluded.relay_cycles, updated_at = excluded.updated_at");
    for (const auto& [id, r] : states_) {
      up.bind(1, r.load_id).bind(2, r.commanded_on).bind(3, r.since).bind(4, r.last_start).bind(5, r.last_stop);
      up.bind(6, r.starts_this_hour).bind(7, r.override_mode).bind(8, r.override_until);
      up.bind(9, r.on_seconds).bind(10, r.relay_cycles);
      if (run_row(up, "load_state", stats)) ++stats.states;
    }
  }
  std::vector<std::pair<std::uint64_t, bool>> fates;  // each event's, told once the flush commits
  if (!events_.empty()) {
    fates.reserve(events_.size());
    auto ins = db_.prepare(
        "INSERT INTO events (at, kind, load_id, commanded_on, reason_code, reason, detail, battery_v, voltage_source, "
        "pv_w, load_w, temp_c, target_w) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const Event& e : events_) {
      ins.bind(1, iso_utc(e.at_unix_s)).bind(2, e.kind).bind(3, e.load_id).bind(4, e.commanded_on);
      ins.bind(5, e.reason_code).bind(6, e.reason).bind(7, e.detail).bind(8, e.battery_v).bind(9, e.voltage_source);
      ins.bind(10, e.pv_w).bind(11, e.load_w).bind(12, e.temp_c).bind(13, e.target_w);
      const bool kept = run_row(ins, "events", stats);
      if (kept) ++stats.events;
      fates.emplace_back(e.seq, kept);
    }
  }
  if (telemetry_due) {
    auto row = db_.prepare(
        "INSERT OR REPLACE INTO telemetry (minute, samples, battery_v_min, battery_v_avg, battery_v_max, soc_pct_avg, "
        "pv_w_min, pv_w_avg, pv_w_max, load_w_min, load_w_avg, load_w_max, battery_temp_c_min, battery_temp_c_avg, "
        "battery_temp_c_max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    auto journal = db_.prepare(
        // A restart within a minute writes that minute twice: the second part follows the first.
        "INSERT INTO cycle_journal (minute_s, format, cycles) VALUES (?, 1, ?) "
        "ON CONFLICT(minute_s) DO UPDATE SET cycles = cycles || excluded.cycles");
    auto zone = db_.prepare(
        "INSERT OR REPLACE INTO telemetry_zone (minute, zone, temp_c_min, temp_c_avg, temp_c_max) "
        "VALUES (?, ?, ?, ?, ?)");
    const auto bind3 = [](db::Stmt& s, int at, const Agg& a) {
      if (a.n == 0) {
        s.bind_null(at).bind_null(at + 1).bind_null(at + 2);
      } else {
        s.bind(at, a.min).bind(at + 1, a.sum / a.n).bind(at + 2, a.max);
      }
    };
    for (const Minute& m : done_) {
      const std::string minute = iso_utc(m.start_s);
      row.bind(1, minute).bind(2, m.samples);
      bind3(row, 3, m.battery_v);
      if (m.soc_pct.n) row.bind(6, m.soc_pct.sum / m.soc_pct.n); else row.bind_null(6);
      bind3(row, 7, m.pv_w);
      bind3(row, 10, m.load_w);
      bind3(row, 13, m.battery_temp_c);
      if (run_row(row, "telemetry", stats)) ++stats.minutes;
      for (const auto& [name, a] : m.zones) {
        zone.bind(1, minute).bind(2, name);
        bind3(zone, 3, a);
        run_row(zone, "telemetry_zone", stats);
      }
      if (!m.journal.empty()) {
        journal.bind(1, m.start_s).bind(2, m.journal);
        run_row(journal, "cycle_journal", stats);
      }
    }
    auto energy = db_.prepare(
        "INSERT OR REPLACE INTO load_energy (day, load_id, wh, on_s, metered_s, unrated_s) VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& [key, e] : energy_) {
      energy.bind(1, key.first).bind(2, key.second).bind(3, e.wh).bind(4, e.on_s).bind(5, e.metered_s);
      energy.bind(6, e.unrated_s);
      run_row(energy, "load_energy", stats);
    }
  }
  tx.commit();

  // Only now, with the commit done, is the queue written.
  for (auto& [id, r] : states_) written_[id] = r;
  states_.clear();
  events_.clear();
  if (event_fate) {
    for (const auto& [seq, kept] : fates) event_fate(seq, kept);
  }
  if (telemetry_due) {
    done_.clear();
    last_telemetry_write_s_ = unix_now;
    for (auto& [key, e] : energy_) energy_written_[key] = e;
    energy_.clear();
    // Only the newest day is still rewritten: the copies of older days are not needed again.
    if (!energy_written_.empty()) {
      const std::string newest = energy_written_.rbegin()->first.first;
      std::erase_if(energy_written_, [&](const auto& kv) { return kv.first.first != newest; });
    }
  }
  return stats;
}

int RuntimeStore::prune(std::int64_t unix_now, int telemetry_days, int events_days, int batch, int journal_days) {
  const std::string telemetry_cut = iso_utc(unix_now - std::int64_t{telemetry_days} * 86400);
  const std::string events_cut = iso_utc(unix_now - std::int64_t{events_days} * 86400);
  int deleted = 0;
  db::Transaction tx(db_);
  const auto run = [&](const char* sql, const auto& cut) {
    auto s = db_.prepare(sql);
    s.bind(1, cut).bind(2, batch).run();
    deleted += sqlite3_changes(db_.raw());
  };
  // DELETE ... LIMIT needs a compile option Debian does not set: select the batch by key.
  run("DELETE FROM telemetry WHERE minute IN (SELECT minute FROM telemetry WHERE minute < ? ORDER BY minute LIMIT ?)",
      telemetry_cut);
  run("DELETE FROM telemetry_zone WHERE (minute, zone) IN "
      "(SELECT minute, zone FROM telemetry_zone WHERE minute < ? ORDER BY minute LIMIT ?)",
      telemetry_cut);
  run("DELETE FROM cycle_journal WHERE minute_s IN "
      "(SELECT minute_s FROM cycle_journal WHERE minute_s < ? ORDER BY minute_s LIMIT ?)",
      unix_now - std::int64_t{journal_days} * 86400);
  run("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE at < ? LIMIT ?)", events_cut);
  // Local dates compare as text; a day either side of the cut is of no matter at 400 days.
  run("DELETE FROM load_energy WHERE (day, load_id) IN "
      "(SELECT day, load_id FROM load_energy WHERE day < ? ORDER BY day LIMIT ?)",
      iso_utc(unix_now - std::int64_t{400} * 86400).substr(0, 10));
  tx.commit();
  return deleted;
}

}  // namespace shackd

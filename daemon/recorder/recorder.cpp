#include "daemon/recorder/recorder.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "daemon/store/run_database.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/real_wait.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

namespace {

// A run of failed writes is one alarm and one end with its count (issue 48), and a log line every
// 10 minutes between: a dead card must not become an alarm every cycle (3,600 an hour on the
// fleet's bridge).
constexpr auto kRepeatFailure = std::chrono::minutes(10);

// Telemetry samples that wait before the recorder's thread is woken for them alone.
constexpr std::size_t kSamplesPerWake = 30;

}  // namespace

std::pair<std::size_t, std::size_t> merge_records(Records& into, Records&& r, std::size_t max_events,
                                                  std::size_t max_samples, std::vector<std::uint64_t>* dropped_events) {
  into.wall_s = std::max(into.wall_s, r.wall_s);
  for (auto& e : r.events) into.events.push_back(std::move(e));
  for (auto& s : r.samples) into.samples.push_back(std::move(s));
  for (auto& [k, v] : r.states) into.states[k] = std::move(v);
  for (auto& [k, v] : r.energy) into.energy[k] = v;
  for (auto& [k, v] : r.charge_limits) into.charge_limits[k] = v;
  for (auto& [k, v] : r.ac_overloads) into.ac_overloads[k] = v;
  for (auto& [k, v] : r.shadow) into.shadow[k] = std::move(v);
  std::size_t events_lost = 0, samples_lost = 0;
  if (into.events.size() > max_events) {
    events_lost = into.events.size() - max_events;
    if (dropped_events) {
      for (std::size_t i = 0; i < events_lost; ++i) dropped_events->push_back(into.events[i].seq);
    }
    into.events.erase(into.events.begin(), into.events.begin() + static_cast<std::ptrdiff_t>(events_lost));
  }
  if (into.samples.size() > max_samples) {
    samples_lost = into.samples.size() - max_samples;
    into.samples.erase(into.samples.begin(), into.samples.begin() + static_cast<std::ptrdiff_t>(samples_lost));
  }
  return {events_lost, samples_lost};
}

struct Recorder::Shared {
  std::unique_ptr<db::Db> db;
  std::unique_ptr<RuntimeStore> store;
  RecorderOptions opt;  // retention: guarded by m
  std::function<void(std::uint64_t, bool)> event_fate;  // set before the thread starts; never changed

  mutable std::mutex m;
  std::condition_variable cv;
  Records pending;
  std::deque<Task> tasks;
  std::vector<RecorderNote> notes;
  RecorderStats stats;
  std::optional<RealClock::time_point> write_started;
  std::uint64_t posted = 0, done = 0;  // hand-overs: settle() waits for done to reach posted
  bool stop = false;
  bool finished = false;

  // The thread's own.
  std::int64_t wall_s = 0;
  std::int64_t last_prune_wall_s = 0;
  bool failing = false;
  RealClock::time_point failure_told{};
  std::uint64_t failures_in_run = 0;
  bool file_alarmed = false;
  std::uint64_t lost_told = 0;
  RealClock::time_point lost_told_at{};

  void note(RecorderNote::Kind k, std::string text) {
    std::lock_guard l(m);
    notes.push_back({k, std::move(text)});
    // Bounded: a core that stopped taking them (it never does) cannot grow this.
    if (notes.size() > 100) notes.erase(notes.begin());
  }
  void run();
  void write(Records&& batch, std::deque<Task>&& todo, bool stopping);
  // Shadow mode's spells (issue 60): in one transaction; those that failed kept for the next write.
  void write_shadow(const std::map<SpellKey, ShadowRow>& rows);
  std::int64_t shadow_pruned_s = 0;  // the last retention pass over the spells (wall s)
  // Spells a failed write left, tried again with the next batch (not put back into `pending`:
  // that would wake the thread at once, again and again, on a card that refuses writes).
  std::map<SpellKey, ShadowRow> shadow_retry;
  void failed(const std::string& what);
  void check_file();
  void tell_losses();
  void write_back_memory();
};

Recorder::Recorder(std::unique_ptr<db::Db> db, std::unique_ptr<RuntimeStore> store, RecorderOptions options)
    : s_(std::make_shared<Shared>()) {
  s_->db = std::move(db);
  s_->store = std::move(store);
  s_->opt = std::move(options);
  s_->event_fate = s_->opt.event_fate;
  s_->store->event_fate = s_->opt.event_fate;  // called on the recorder's thread, where the store runs
  s_->last_prune_wall_s = 0;
  // The thread holds the shared state too: a stop that gives up waiting leaves it whole.
  thread_ = std::thread([s = s_] {
    drivers::thread::begin_side_thread("recorder");
    s->run();
  });
}

Recorder::~Recorder() {
  if (!stopped_) stop(std::chrono::seconds(2));
}

void Recorder::post(Records&& r) {
  if (r.empty()) return;
  bool wake = false;
  std::vector<std::uint64_t> dropped;
  {
    std::lock_guard l(s_->m);
    const auto [events_lost, samples_lost] =
        merge_records(s_->pending, std::move(r), s_->opt.max_events, s_->opt.max_samples, &dropped);
    s_->stats.events_lost += events_lost;
    s_->stats.samples_lost += samples_lost;
    ++s_->posted;
    // Telemetry alone waits for a few cycles' worth (it is written once a few minutes anyway):
    // the recorder's thread is not woken every cycle for it. Events, states and charge limits
    // wake it at once.
    wake = !s_->pending.events.empty() || !s_->pending.states.empty() || !s_->pending.charge_limits.empty() ||
           !s_->pending.ac_overloads.empty() || !s_->pending.shadow.empty() ||
           s_->pending.samples.size() >= kSamplesPerWake;
  }
  if (s_->event_fate) {
    for (const auto seq : dropped) s_->event_fate(seq, false);
  }
  if (wake) s_->cv.notify_one();
}

bool Recorder::post_task(Task t) {
  {
    std::lock_guard l(s_->m);
    if (s_->tasks.size() >= s_->opt.max_tasks) {
      ++s_->stats.tasks_refused;
      return false;
    }
    s_->tasks.push_back(std::move(t));
    ++s_->posted;
  }
  s_->cv.notify_one();
  return true;
}

std::size_t Recorder::max_tasks() const {
  std::lock_guard l(s_->m);
  return s_->opt.max_tasks;
}

bool Recorder::call(const std::function<void(db::Db&)>& f, std::chrono::milliseconds bound) {
  enum class State { pending, running, done, cancelled };
  struct Call {
    std::mutex m;
    State state = State::pending;
  };
  const auto c = std::make_shared<Call>();
  const bool posted = post_task([c, &f](db::Db& db, RuntimeStore&) {
    {
      std::lock_guard l(c->m);
      if (c->state == State::cancelled) return;  // the caller gave up: `f` is gone
      c->state = State::running;
    }
    try {
      f(db);
    } catch (...) {
      std::lock_guard l(c->m);
      c->state = State::done;
      throw;
    }
    std::lock_guard l(c->m);
    c->state = State::done;
  });
  if (!posted) return false;
  const auto is = [&](State st) {
    std::lock_guard l(c->m);
    return c->state == st;
  };
  if (wait_until([&] { return is(State::done); }, bound)) return true;
  {
    std::lock_guard l(c->m);
    if (c->state == State::pending) {
      c->state = State::cancelled;
      return false;
    }
  }
  // Started: `f` refers to the caller's frame, so the caller waits for its end.
  while (!is(State::done)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

RecorderStats Recorder::stats() const {
  std::lock_guard l(s_->m);
  RecorderStats out = s_->stats;
  out.queued += s_->pending.events.size() + s_->pending.states.size();
  if (s_->write_started) out.writing_s = std::chrono::duration<double>(RealClock::now() - *s_->write_started).count();
  return out;
}

std::vector<RecorderNote> Recorder::take_notes() {
  std::lock_guard l(s_->m);
  return std::exchange(s_->notes, {});
}

bool Recorder::settle(std::chrono::milliseconds bound) {
  std::uint64_t target = 0;
  {
    std::lock_guard l(s_->m);
    target = s_->posted;
  }
  s_->cv.notify_one();  // what post() left for later, now
  return wait_until(
      [&] {
        std::lock_guard l(s_->m);
        return s_->done >= target || s_->finished;
      },
      bound);
}

bool Recorder::stop(std::chrono::milliseconds bound) {
  if (stopped_) return true;
  stopped_ = true;
  {
    std::lock_guard l(s_->m);
    s_->stop = true;
  }
  s_->cv.notify_one();
  const bool done = wait_until(
      [&] {
        std::lock_guard l(s_->m);
        return s_->finished;
      },
      bound);
  if (done) {
    thread_.join();
    return true;
  }
  const RecorderStats st = stats();
  log::error("database: the last write did not finish within {} s; {} event(s) and load state(s) not written "
             "(the database stays consistent: SQLite rolls an unfinished write back)",
             bound.count() / 1000, st.queued);
  thread_.detach();  // it holds the shared state; the process ends around it
  return false;
}

void Recorder::set_retention(int telemetry_days, int events_days, int journal_days) {
  std::lock_guard l(s_->m);
  s_->opt.telemetry_days = telemetry_days;
  s_->opt.events_days = events_days;
  s_->opt.journal_days = journal_days;
}

void Recorder::Shared::run() {
  for (;;) {
    Records batch;
    std::deque<Task> todo;
    bool stopping = false;
    std::uint64_t upto = 0;
    {
      std::unique_lock l(m);
      cv.wait(l, [&] { return stop || !pending.empty() || !tasks.empty() || done < posted; });
      batch = std::exchange(pending, Records{});
      todo.swap(tasks);
      stopping = stop;
      upto = posted;
      write_started = RealClock::now();
    }
    write(std::move(batch), std::move(todo), stopping);
    if (stopping) write_back_memory();
    {
      std::lock_guard l(m);
      write_started.reset();
      done = upto;
      stats.queued = store->backlog();
      stats.store_dropped = static_cast<std::uint64_t>(store->dropped());
      stats.store_events_dropped = static_cast<std::uint64_t>(store->events_dropped());
      if (stopping) finished = true;
    }
    if (stopping) return;
  }
}

void Recorder::Shared::write_shadow(const std::map<SpellKey, ShadowRow>& rows) {
  for (const auto& [key, row] : rows) shadow_retry[key] = row;  // the newest state of each spell wins
  if (shadow_retry.empty()) return;
  // A card that refuses every write for days: the oldest spells go first, counted in the note.
  constexpr std::size_t kMaxShadowRetry = 1000;
  std::size_t dropped = 0;
  while (shadow_retry.size() > kMaxShadowRetry) {
    const auto oldest = std::min_element(shadow_retry.begin(), shadow_retry.end(), [](const auto& a, const auto& b) {
      return a.second.start_ms < b.second.start_ms;
    });
    shadow_retry.erase(oldest);
    ++dropped;
  }
  if (dropped > 0) {
    note(RecorderNote::Kind::info, fmt::format("shadow: {} disagreement(s) dropped unwritten (the database refuses writes)", dropped));
  }
  try {
    db::Transaction tx(*db);
    for (const auto& [key, row] : shadow_retry) save_shadow_row(*db, row);
    // Kept as long as the events, pruned at most once an hour (a spell is a row, not a cycle).
    if (wall_s - shadow_pruned_s >= 3600) {
      int days = 0;
      {
        std::lock_guard l(m);
        days = opt.events_days;
      }
      prune_shadow_rows(*db, (wall_s - std::int64_t{days} * 86400) * 1000);
      shadow_pruned_s = wall_s;
    }
    tx.commit();
    shadow_retry.clear();
  } catch (const db::Error& e) {
    note(RecorderNote::Kind::info, fmt::format("shadow: cannot record {} disagreement(s) ({}); kept for the next write",
                                               shadow_retry.size(), e.what()));
  }
}

void Recorder::Shared::write(Records&& batch, std::deque<Task>&& todo, bool stopping) {
  if (batch.wall_s > 0) wall_s = batch.wall_s;
  for (auto& e : batch.events) store->add_event(std::move(e));
  for (const auto& [at, sample] : batch.samples) store->add_sample(at, sample);
  for (const auto& [id, row] : batch.states) store->set_load_state(row);
  for (const auto& [key, e] : batch.energy) store->set_energy(key.first, key.second, e);
  {
    // What waits for this write is queued too: status shows a store that falls behind.
    std::lock_guard l(m);
    stats.queued = store->backlog();
  }
  for (const auto& [name, row] : batch.charge_limits) {
    try {
      save_charge_limit(*db, name, row, wall_s);
    } catch (const db::Error& e) {
      note(RecorderNote::Kind::info, fmt::format("charge limit {}: cannot record its state ({}); a restart now would not "
                                                 "know to put it back",
                                                 name, e.what()));
      // Kept for the next write, unless a newer row came meanwhile.
      std::lock_guard l(m);
      pending.charge_limits.try_emplace(name, row);
    }
  }
  for (const auto& [key, row] : batch.ac_overloads) {
    try {
      save_ac_overload(*db, key, row, wall_s);
    } catch (const db::Error& e) {
      note(RecorderNote::Kind::info, fmt::format("AC source {} L{}: cannot record its overload ({}); a restart now would "
                                                 "not hold its starts",
                                                 key.first, key.second, e.what()));
      std::lock_guard l(m);
      pending.ac_overloads.try_emplace(key, row);  // kept for the next write, unless a newer row came
    }
  }
  write_shadow(batch.shadow);
  for (auto& t : todo) {
    try {
      t(*db, *store);
    } catch (const std::exception& e) {
      note(RecorderNote::Kind::info, fmt::format("database: a task failed: {}", e.what()));
    }
  }
  bool ok = false;
  FlushStats flushed;
  try {
    flushed = store->flush(wall_s, stopping);
    ok = true;
  } catch (const db::Error& e) {
    failed(e.what());
    // The last write: nobody reads a note after it, and what it held goes with the process.
    if (stopping) log::error("{} (the last {} item(s) are lost)", e.what(), store->queued());
  }
  if (ok) {
    std::lock_guard l(m);
    ++stats.writes;
  }
  if (ok && failing) {
    failing = false;
    note(RecorderNote::Kind::store_ok,
         fmt::format("store_error: cleared: writing again after {} failed write(s)", failures_in_run));
    failures_in_run = 0;
  }
  if (ok && flushed.rejected > 0) {
    RecorderNote n{RecorderNote::Kind::rows_rejected,
                   fmt::format("store: {} row(s) refused by the database and dropped ({} since the start), the rest "
                               "written: {}",
                               flushed.rejected, store->rejected(), store->last_rejection()),
                   store->rejected() == flushed.rejected};
    std::lock_guard l(m);
    notes.push_back(std::move(n));
    if (notes.size() > 100) notes.erase(notes.begin());
  }
  if (ok && wall_s - last_prune_wall_s >= 3600) {
    int telemetry_days = 30, events_days = 90, journal_days = 7;
    {
      std::lock_guard l(m);
      telemetry_days = opt.telemetry_days;
      events_days = opt.events_days;
      journal_days = opt.journal_days;
    }
    try {
      store->prune(wall_s, telemetry_days, events_days, 500, journal_days);
      last_prune_wall_s = wall_s;
    } catch (const db::Error& e) {
      failed(e.what());
    }
  }
  check_file();
  tell_losses();
}

// At the stop, after the last flush: a database run in memory goes to the card if it has room now
// (told in the log: the core no longer reads notes).
void Recorder::Shared::write_back_memory() {
  if (opt.write_back_path.empty()) return;
  const std::string& path = opt.write_back_path;
  // A file whose data could not be read at the start (a history behind an I/O error, or what a
  // first start on a full card left) is never written over: it is moved aside first (a rename
  // takes no room), so the next start opens this run's database and the old one is still there.
  if (opt.write_back_file_unread) {
    const std::string aside = fmt::format("{}.unread-{}", path, std::time(nullptr));
    if (std::rename(path.c_str(), aside.c_str()) != 0) {
      log::error("database {}: what was recorded in memory since the start is lost: the file that could not be read "
                 "at the start cannot be moved aside ({})",
                 path, std::strerror(errno));
      return;
    }
    // Its write-ahead log and journal go with it: left at the old name, SQLite would take them
    // for the new database's own and replay them into it.
    for (const char* sidecar : {"-wal", "-shm", "-journal"}) {
      const std::string from = path + sidecar;
      if (::access(from.c_str(), F_OK) == 0) std::rename(from.c_str(), (aside + sidecar).c_str());
    }
    log::warn("database {}: the file that could not be read at the start is kept as {}", path, aside);
  }
  std::string why;
  if (write_back(*db, opt.write_back_path, why)) {
    log::info("database {}: what was recorded in memory is written to the card", opt.write_back_path);
  } else {
    log::error("database {}: what was recorded in memory since the start is lost: the card still cannot take it ({})",
               opt.write_back_path, why);
  }
}

void Recorder::Shared::failed(const std::string& what) {
  {
    std::lock_guard l(m);
    ++stats.errors;
  }
  ++failures_in_run;
  const auto now = RealClock::now();
  if (!failing) {
    note(RecorderNote::Kind::store_failing,
         fmt::format("store_error: {} ({} item(s) kept queued; tried again at each write, said again when it writes)",
                     what, store->queued()));
    failure_told = now;
  } else if (now - failure_told >= kRepeatFailure) {
    note(RecorderNote::Kind::store_still_failing,
         fmt::format("store_error: {} ({} failed write(s) in a row, {} item(s) queued)", what, failures_in_run,
                     store->queued()));
    failure_told = now;
  }
  failing = true;
}

void Recorder::Shared::check_file() {
  // One stat(2) after each write: the alarm comes within a write.
  if (!opt.database_file || opt.database_path.empty()) return;
  struct stat st {};
  const bool gone = ::stat(opt.database_path.c_str(), &st) != 0;
  const bool replaced = !gone && std::make_pair(st.st_dev, st.st_ino) != *opt.database_file;
  if (!gone && !replaced) {
    if (file_alarmed) note(RecorderNote::Kind::info, fmt::format("database {}: the file is back", opt.database_path));
    file_alarmed = false;
    return;
  }
  if (file_alarmed) return;
  file_alarmed = true;
  note(RecorderNote::Kind::database_file,
       fmt::format("database {} was {} while shackd runs: what is written now goes to the old file and is lost at "
                   "the next start; restore it from a backup, or restart shackd to begin a new one",
                   opt.database_path, gone ? "deleted" : "replaced"));
}

void Recorder::Shared::tell_losses() {
  std::uint64_t events_lost = 0, samples_lost = 0;
  const auto store_dropped = static_cast<std::uint64_t>(store->dropped());
  {
    std::lock_guard l(m);
    events_lost = stats.events_lost;
    samples_lost = stats.samples_lost;
  }
  const auto store_events = static_cast<std::uint64_t>(store->events_dropped());
  const std::uint64_t total = events_lost + samples_lost + store_dropped;
  const auto now = RealClock::now();
  if (total == lost_told || (lost_told > 0 && now - lost_told_at < kRepeatFailure)) return;
  lost_told = total;
  lost_told_at = now;
  // The store's own losses only: whether the events went out on MQTT is the outbox's to say.
  note(RecorderNote::Kind::lost,
       fmt::format("store_lost: {} event(s) and {} telemetry sample(s) dropped before the database took them, {} "
                   "event(s) and {} telemetry minute(s) given up by the store after a long outage",
                   events_lost, samples_lost, store_events, store_dropped - store_events));
}

}  // namespace shackd

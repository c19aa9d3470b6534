// Runtime state, events and telemetry: written sparingly, kept across restarts and crashes.
#include "tests/store/fixture.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/store/runtime_store.hpp"
#include "daemon/store/site_identity.hpp"

using shackd::LoadStateRow;
using shackd::RuntimeStore;

namespace {
constexpr std::int64_t kT0 = 1795300000;  // 2026-11-21, on a minute boundary + 40 s
LoadStateRow primary_on() {
  LoadStateRow r;
  r.load_id = "miner:Primary S21+";
  r.commanded_on = true;
  r.since = shackd::iso_utc(kT0);
  r.last_start = shackd::iso_utc(kT0);
  r.starts_this_hour = 1;
  r.override_mode = "on";
  r.override_until = shackd::iso_utc(kT0 + 3600);
  r.on_seconds = 7200;
  r.relay_cycles = 12;
  return r;
}
}  // namespace

TEST_CASE("iso_utc") { CHECK(shackd::iso_utc(0) == "1970-01-01T00:00:00Z"); }

TEST_CASE("load_state survives a restart, and an unchanged state is not written again") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  {
    shackd::db::Db db(path, {.create = true});
    shackd::migrate(db, shackd::embedded_migrations());
    RuntimeStore store(db);
    CHECK(store.load_states().empty());
    store.set_load_state(primary_on());
    CHECK(store.flush(kT0).states == 1);
    store.set_load_state(primary_on());  // the same again
    CHECK(store.queued() == 0);
    CHECK(store.flush(kT0 + 1).states == 0);
  }
  shackd::db::Db db(path);
  RuntimeStore store(db);
  const auto states = store.load_states();
  REQUIRE(states.count("miner:Primary S21+") == 1);
  CHECK(states.at("miner:Primary S21+") == primary_on());
  // After a restart the cache knows what is on disk: still nothing to write.
  store.set_load_state(primary_on());
  CHECK(store.queued() == 0);
  LoadStateRow off = primary_on();
  off.commanded_on = false;
  store.set_load_state(off);
  CHECK(store.flush(kT0 + 2).states == 1);
}

TEST_CASE("telemetry is aggregated per minute and written at most once a minute") {
  test::MigratedDb m;
  RuntimeStore store(m.db);
  store.telemetry_every_s = 60;  // the cadence under test; the default is 5 minutes (below)
  const std::int64_t minute0 = kT0 - kT0 % 60;
  int minutes_written = 0, flushes_that_wrote = 0;
  for (std::int64_t t = minute0; t < minute0 + 180; ++t) {
    shackd::TelemetrySample s;
    s.battery_v = 50.0 + static_cast<double>(t - minute0) / 100.0;
    s.pv_w = (t % 2) ? std::optional<double>(1000) : std::nullopt;  // missing half the time: not a 0
    s.zone_temps_c = {{"Heat Room", 20.0}};
    store.add_sample(t, s);
    const auto f = store.flush(t);
    minutes_written += f.minutes;
    flushes_that_wrote += f.minutes > 0;
  }
  CHECK(minutes_written == 2);  // the third minute is still open
  CHECK(flushes_that_wrote == 2);
  auto row = m.db.prepare("SELECT samples, battery_v_min, battery_v_avg, battery_v_max, pv_w_min, pv_w_avg, load_w_avg "
                          "FROM telemetry ORDER BY minute");
  REQUIRE(row.step());
  CHECK(row.integer(0) == 60);
  CHECK(row.real(1) == doctest::Approx(50.0));
  CHECK(row.real(2) == doctest::Approx(50.295));
  CHECK(row.real(3) == doctest::Approx(50.59));
  CHECK(row.real(4) == 1000);
  CHECK(row.real(5) == 1000);  // the average of what was there
  CHECK(row.is_null(6));       // never measured: NULL, not 0
  CHECK(m.db.scalar_int("SELECT count(*) FROM telemetry_zone") == 2);
  CHECK(store.flush(minute0 + 400, true).minutes == 1);  // a forced flush writes the minute in progress
  CHECK(store.flush(minute0 + 401, true).minutes == 0);
}

TEST_CASE("by default five minutes of telemetry and journal go in one write; events do not wait") {
  test::MigratedDb m;
  RuntimeStore store(m.db);
  CHECK(store.telemetry_every_s == 300);
  const std::int64_t minute0 = kT0 - kT0 % 60;
  std::vector<std::int64_t> wrote_at;
  for (std::int64_t t = minute0; t <= minute0 + 11 * 60; ++t) {
    shackd::TelemetrySample s;
    s.battery_v = 52.0;
    s.journal_lines = "C\t0\t0\t-\n";
    store.add_sample(t, s);
    if (t == minute0 + 90) {
      shackd::Event e;
      e.at_unix_s = t;
      e.kind = "alarm";
      e.reason = "none";
      store.add_event(e);
      CHECK(store.flush(t).events == 1);  // at once, whatever the telemetry's cadence
      continue;
    }
    if (store.flush(t).minutes > 0) wrote_at.push_back(t - minute0);
  }
  // The first finished minute at once (nothing written yet), then every 300 s: 5 minutes each.
  REQUIRE(wrote_at.size() == 3);
  CHECK(wrote_at[0] == 60);
  CHECK(wrote_at[1] == 360);
  CHECK(wrote_at[2] == 660);
  CHECK(m.db.scalar_int("SELECT count(*) FROM cycle_journal") == 11);  // minutes 0 to 10
}

TEST_CASE("energy per load and day: written with the minute's telemetry, only when it changed") {
  test::TempDir dir;
  const std::string path = dir.file("e.db");
  const std::int64_t minute0 = kT0 - kT0 % 60;
  const auto rows = [](shackd::db::Db& db) { return db.scalar_int("SELECT count(*) FROM load_energy"); };
  {
    shackd::db::Db db(path, {.create = true});
    shackd::migrate(db, shackd::embedded_migrations());
    RuntimeStore store(db);
    store.telemetry_every_s = 60;
    CHECK(store.energy_on("2026-11-21").empty());
    store.add_sample(minute0, {});
    store.set_energy("2026-11-21", "miner:Dump", {100, 120, 0, 0});
    store.set_energy("2026-11-21", "fan:Heat Room", {0, 0, 0, 0});
    store.flush(minute0 + 1);  // no finished minute yet: energy waits for one
    CHECK(rows(db) == 0);
    store.add_sample(minute0 + 60, {});
    store.set_energy("2026-11-21", "miner:Dump", {200, 240, 0, 0});
    store.flush(minute0 + 61);
    CHECK(rows(db) == 2);
    CHECK(db.scalar_int("SELECT CAST(wh AS INTEGER) FROM load_energy WHERE load_id = 'miner:Dump'") == 200);
    // Unchanged: nothing queued for the next minute's write.
    store.set_energy("2026-11-21", "fan:Heat Room", {0, 0, 0, 0});
    store.set_energy("2026-11-21", "miner:Dump", {200, 240, 0, 0});
    store.add_sample(minute0 + 120, {});
    store.set_energy("2026-11-22", "miner:Dump", {5, 6, 6, 0});  // past midnight
    store.flush(minute0 + 121);
    CHECK(rows(db) == 3);
  }
  shackd::db::Db db(path);
  RuntimeStore store(db);
  const auto day = store.energy_on("2026-11-21");
  REQUIRE(day.size() == 2);
  CHECK(day.at("miner:Dump") == shackd::LoadEnergy{200, 240, 0, 0});
  CHECK(store.energy_on("2026-11-22").at("miner:Dump").metered_s == 6);
}

// Issue 48: one row the schema refuses (a negative day's energy, from a miner that said -50 W)
// failed the whole transaction, events and telemetry with it, every minute from then on.
TEST_CASE("a row the schema refuses is dropped and counted; the rest of its flush commits") {
  test::MigratedDb m;
  RuntimeStore store(m.db);
  store.telemetry_every_s = 60;
  const std::int64_t minute0 = kT0 - kT0 % 60;
  for (int k = 0; k < 3; ++k) {
    shackd::TelemetrySample s;
    s.battery_v = 52.0;
    store.add_sample(minute0 + 60 * k, s);
    store.set_energy("2026-11-21", "miner:Dump", {-50.0 * (k + 1), 60.0 * (k + 1), 60.0 * (k + 1), 0});
    store.set_energy("2026-11-21", "fan:Heat Room", {0, 60.0 * (k + 1), 0, 60.0 * (k + 1)});
    shackd::Event e;
    e.at_unix_s = minute0 + 60 * k;
    e.kind = k == 1 ? "not a kind" : "actuation";  // 0003's CHECK on kind refuses it
    e.reason = "running";
    e.detail = "event " + std::to_string(k);
    store.add_event(e);
    const auto f = store.flush(minute0 + 60 * k + 1);
    // Energy goes with a finished minute (none at the first flush): the miner's refused each time,
    // and the bad event once.
    CHECK(f.rejected == (k == 0 ? 0 : (k == 1 ? 2 : 1)));
  }
  CHECK(m.db.scalar_int("SELECT count(*) FROM events") == 2);
  CHECK(m.db.scalar_int("SELECT count(*) FROM telemetry") == 2);  // the minutes finished so far
  CHECK(m.db.scalar_int("SELECT count(*) FROM load_energy WHERE load_id = 'fan:Heat Room'") == 1);
  CHECK(m.db.scalar_int("SELECT count(*) FROM load_energy WHERE load_id = 'miner:Dump'") == 0);
  CHECK(store.rejected() == 3);
  CHECK(store.last_rejection().starts_with("load_energy: "));
  CHECK(store.last_rejection().find("CHECK constraint failed") != std::string::npos);
  CHECK(store.backlog() == 0);  // nothing waits: what was refused is gone, the rest written
}

TEST_CASE("events are written as they come, with their inputs") {
  test::MigratedDb m;
  RuntimeStore store(m.db);
  shackd::Event e;
  e.at_unix_s = kT0;
  e.kind = "actuation";
  e.load_id = "miner:Primary S21+";
  e.commanded_on = true;
  e.reason_code = 1;
  e.reason = "running";
  e.detail = "running: 52.30 V (limit 47.00 V)";
  e.battery_v = 52.3;
  e.voltage_source = "battery_monitor";
  e.pv_w = 8450;
  store.add_event(e);
  CHECK(store.flush(kT0).events == 1);
  auto s = m.db.prepare("SELECT at, kind, commanded_on, reason, battery_v, load_w FROM events");
  REQUIRE(s.step());
  CHECK(s.text(0) == shackd::iso_utc(kT0));
  CHECK(s.text(1) == "actuation");
  CHECK(s.integer(2) == 1);
  CHECK(s.text(3) == "running");
  CHECK(s.real(4) == 52.3);
  CHECK(s.is_null(5));
}

TEST_CASE("retention prunes old rows in small batches") {
  test::MigratedDb m;
  RuntimeStore store(m.db);
  const std::int64_t now = kT0;
  for (int i = 0; i < 30; ++i) {
    shackd::Event e;
    e.at_unix_s = now - 100 * 86400 + i;  // 100 days old
    e.kind = "alarm";
    e.reason = "no_voltage";
    store.add_event(e);
  }
  shackd::Event recent;
  recent.at_unix_s = now - 86400;
  recent.kind = "alarm";
  recent.reason = "no_voltage";
  store.add_event(recent);
  store.flush(now);
  CHECK(store.prune(now, 30, 90, 20) == 20);
  CHECK(store.prune(now, 30, 90, 20) == 10);
  CHECK(store.prune(now, 30, 90, 20) == 0);
  CHECK(m.db.scalar_int("SELECT count(*) FROM events") == 1);

  // Telemetry: 5 minutes from 40 days ago and 1 from today, each with a zone row.
  for (int i = 0; i < 5; ++i) {
    shackd::TelemetrySample s;
    s.battery_v = 50;
    s.zone_temps_c = {{"Heat Room", 20.0}};
    store.add_sample(now - 40 * 86400 + i * 60, s);
  }
  shackd::TelemetrySample today;
  today.zone_temps_c = {{"Heat Room", 20.0}};
  store.add_sample(now - 600, today);
  store.flush(now, true);
  REQUIRE(m.db.scalar_int("SELECT count(*) FROM telemetry") == 6);
  CHECK(store.prune(now, 30, 90, 3) == 6);  // 3 telemetry + 3 zone rows
  CHECK(store.prune(now, 30, 90, 3) == 4);
  CHECK(m.db.scalar_int("SELECT count(*) FROM telemetry") == 1);
  CHECK(m.db.scalar_int("SELECT count(*) FROM telemetry_zone") == 1);
}

TEST_CASE("a locked database keeps everything queued, and the next flush writes it") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  shackd::db::Db db(path, {.create = true, .busy_timeout_ms = 20});
  shackd::migrate(db, shackd::embedded_migrations());
  RuntimeStore store(db);
  store.set_load_state(primary_on());
  {
    shackd::db::Db other(path, {.create = false, .busy_timeout_ms = 20});
    other.exec("BEGIN EXCLUSIVE");
    try {
      store.flush(kT0);
      FAIL("a flush went through a locked database");
    } catch (const shackd::db::Error& e) {
      CHECK(e.locked());
      CHECK(std::string(e.what()).find("locked") != std::string::npos);
    }
    CHECK(store.queued() == 1);
    other.exec("ROLLBACK");
  }
  CHECK(store.flush(kT0 + 1).states == 1);
  CHECK(store.queued() == 0);
}

TEST_CASE("SIGKILL in the middle of a write loop loses no committed row and corrupts nothing") {
  test::TempDir dir;
  const std::string path = dir.file("kill.db");
  {
    shackd::db::Db db(path, {.create = true});
    shackd::migrate(db, shackd::embedded_migrations());
  }
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: commit events one transaction at a time and report each commit.
    close(pipefd[0]);
    try {
      shackd::db::Db db(path);
      RuntimeStore store(db);
      for (std::int64_t i = 0;; ++i) {
        shackd::Event e;
        e.at_unix_s = kT0 + i;
        e.kind = "lifecycle";
        e.reason_code = static_cast<int>(i % 1000);
        e.reason = "tick";
        e.detail = std::string(200, 'x');
        store.add_event(e);
        shackd::TelemetrySample s;
        s.battery_v = 50;
        store.add_sample(kT0 + i * 20, s);
        store.flush(kT0 + i * 20);
        if (write(pipefd[1], &i, sizeof i) != sizeof i) _exit(2);
      }
    } catch (...) {
      _exit(3);
    }
  }
  close(pipefd[1]);
  std::int64_t last = -1, got = 0;
  while (last < 300 && read(pipefd[0], &got, sizeof got) == sizeof got) last = got;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipefd[0]);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(last >= 300);

  shackd::db::Db db(path);
  auto check = db.prepare("PRAGMA integrity_check");
  REQUIRE(check.step());
  CHECK(check.text(0) == "ok");
  // Every event the child saw committed is there (it may have committed one more).
  CHECK(db.scalar_int("SELECT count(*) FROM events") >= last + 1);
  CHECK(db.scalar_int("SELECT max(reason_code) FROM events WHERE at = '" + shackd::iso_utc(kT0 + last) + "'") ==
        last % 1000);
}

TEST_CASE("the cycle journal: one text per minute that names its zones, continued across a restart") {
  test::TempDir dir;
  const std::string path = dir.file("j.db");
  const std::int64_t minute = kT0 - kT0 % 60;
  const auto sample = [](const std::string& zones, const std::string& lines) {
    shackd::TelemetrySample s;
    s.battery_v = 52;
    s.journal_header = zones;
    s.journal_lines = lines;
    return s;
  };
  {
    shackd::db::Db db(path, {.create = true});
    shackd::migrate(db, shackd::embedded_migrations());
    RuntimeStore store(db);
    store.add_sample(minute + 1, sample("Z\tA", "S\nC\t1000"));
    store.add_sample(minute + 3, sample("Z\tA", "C\t3000"));
    store.add_sample(minute + 5, sample("Z\tB\tA", "C\t5000"));  // a reload added zone B
    store.flush(minute + 6, true);                                 // stopped within the minute
  }
  shackd::db::Db db(path);
  RuntimeStore store(db);
  store.add_sample(minute + 40, sample("Z\tB\tA", "S\nC\t40000"));
  store.add_sample(minute + 61, sample("Z\tB\tA", "C\t1000"));
  store.flush(minute + 200, true);
  auto s = db.prepare("SELECT minute_s, format, cycles FROM cycle_journal ORDER BY minute_s");
  REQUIRE(s.step());
  CHECK(s.integer(0) == minute);
  CHECK(s.integer(1) == 1);
  CHECK(s.text(2) == "Z\tA\nS\nC\t1000\nC\t3000\nZ\tB\tA\nC\t5000\nZ\tB\tA\nS\nC\t40000\n");
  REQUIRE(s.step());
  CHECK(s.text(2) == "Z\tB\tA\nC\t1000\n");  // each minute stands alone
  CHECK_FALSE(s.step());
  // Kept journal_days, apart from the rest of the telemetry.
  CHECK(store.prune(minute + 3 * 86400, 30, 90, 500, 2) == 2);
  CHECK(db.scalar_int("SELECT count(*) FROM cycle_journal") == 0);
  CHECK(db.scalar_int("SELECT count(*) FROM telemetry") == 2);
}

// Issue 48: ids made from names collapsed: '#', emoji and blanks all became "x", and "Café Ñandú"
// became caf_and, so that two sites could share one topic tree at a central broker.
TEST_CASE("a site id from a name keeps what it can say and a hash of what it cannot") {
  using shackd::site_id_from_name;
  CHECK(site_id_from_name("Solar Shack") == "solar_shack");  // as before: the ids Home Assistant has
  CHECK(site_id_from_name("north-ridge.cabin") == "north_ridge_cabin");
  CHECK(site_id_from_name("Café Ñandú") == "cafe_nandu");
  CHECK(site_id_from_name("Straße Łódź") == "strasse_lodz");
  const auto a = site_id_from_name("Shack #1"), b = site_id_from_name("Shack #2");
  CHECK(a.rfind("shack_1_", 0) == 0);
  CHECK(a.size() == std::string("shack_1_").size() + 6);
  CHECK(a != b);
  const auto house = site_id_from_name("🏠"), tent = site_id_from_name("⛺"), blank = site_id_from_name("   ");
  CHECK(house.rfind("x_", 0) == 0);
  CHECK(house != tent);
  CHECK(blank.rfind("x_", 0) == 0);
  CHECK(house != blank);
  for (const auto& id : {a, b, house, tent, blank, site_id_from_name(std::string(200, '#'))}) {
    CHECK(id.size() <= 64);
    CHECK(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
  }
  // What the table takes (0009's CHECK).
  test::MigratedDb m;
  CHECK(shackd::site_identity(m.db, "🏠 Nandú #3", kT0).site_id == site_id_from_name("🏠 Nandú #3"));
}

TEST_CASE("the site id is fixed at the first start and a rename keeps it") {
  test::MigratedDb m;
  const auto first = shackd::site_identity(m.db, "Solar Shack", kT0);
  CHECK(first.fixed_now);
  CHECK(first.site_id == "solar_shack");  // as the ids were made before the table: nothing changes
  const auto renamed = shackd::site_identity(m.db, "Cabin on the Hill", kT0 + 60);
  CHECK_FALSE(renamed.fixed_now);
  CHECK(renamed.site_id == "solar_shack");
  CHECK(renamed.named_from == "Solar Shack");
  // The table holds one row and refuses an id Home Assistant could not take.
  CHECK(m.db.scalar_int("SELECT count(*) FROM site_identity") == 1);
  CHECK_THROWS_AS(m.db.exec("UPDATE site_identity SET site_id = 'Solar Shack'"), shackd::db::Error);
  CHECK_THROWS_AS(m.db.exec("INSERT INTO site_identity VALUES (2, 'x', 'x', 'x')"), shackd::db::Error);
}

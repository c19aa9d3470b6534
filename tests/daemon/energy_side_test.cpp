// EnergySide (daemon/recorder/energy_side.hpp) against a real SQLite file through the recorder's
// thread: a day carried on across a restart is what the store holds plus what this process counted
// while the read was under way; a read of a day that has passed meanwhile is dropped.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include "daemon/recorder/energy_side.hpp"
#include "daemon/store/runtime_store.hpp"
#include "tests/store/fixture.hpp"

using namespace std::chrono_literals;

namespace {
const rules::SteadyTime kSideT0 = rules::SteadyTime{} + 2000h;
shackd::Draw dump_on() { return {"miner:Dump", true, std::nullopt, 3250}; }

// A database whose miner:Dump used `wh` on `day`, written as the recorder writes it: with a
// finished telemetry minute.
void stored_day(const std::string& path, const std::string& day, double wh) {
  shackd::db::Db db(path, {.create = true});
  shackd::migrate(db, shackd::embedded_migrations());
  shackd::RuntimeStore store(db);
  store.telemetry_every_s = 60;
  const std::int64_t minute0 = 1'790'000'040;
  store.add_sample(minute0, {});
  store.add_sample(minute0 + 60, {});
  store.set_energy(day, "miner:Dump", {wh, 600, 0, 0});
  store.flush(minute0 + 61);
  REQUIRE(store.energy_on(day).at("miner:Dump").wh == doctest::Approx(wh));
}

// A restart on a database whose 2026-11-21 holds 200 Wh for miner:Dump, its recorder running.
struct Restarted {
  test::TempDir dir;
  std::unique_ptr<shackd::Recorder> rec;
  shackd::EnergySide side;
  shackd::Records records;
  Restarted() {
    const std::string path = dir.file("e.db");
    stored_day(path, "2026-11-21", 200);
    auto db = std::make_unique<shackd::db::Db>(path);
    auto store = std::make_unique<shackd::RuntimeStore>(*db);
    rec = std::make_unique<shackd::Recorder>(std::move(db), std::move(store), shackd::RecorderOptions{});
  }
  void account(const char* day, rules::SteadyTime now) { side.account(day, now, {dump_on()}, records, rec.get()); }
};
}  // namespace

TEST_CASE("energy side: a restart's day is the stored count plus what was counted meanwhile") {
  Restarted r;
  // The first trusted date asks the store for its day; the answer comes on the recorder's thread.
  r.account("2026-11-21", kSideT0);
  REQUIRE(r.rec->settle(10s));
  // 36 s at 3,250 W: 32.5 Wh counted here, added to the 200 stored, whichever cycle took the read.
  r.account("2026-11-21", kSideT0 + 36s);
  CHECK(r.side.meter().day() == "2026-11-21");
  CHECK(r.side.meter().totals().at("miner:Dump").wh == doctest::Approx(232.5));
  CHECK(r.records.energy.at({"2026-11-21", "miner:Dump"}).wh == doctest::Approx(232.5));
  // Later cycles count on from there; the stored count is not added twice.
  r.account("2026-11-21", kSideT0 + 72s);
  CHECK(r.side.meter().totals().at("miner:Dump").wh == doctest::Approx(265));
}

TEST_CASE("energy side: without a recorder the day starts from this process's count") {
  shackd::EnergySide side;
  shackd::Records records;
  side.account("2026-11-21", kSideT0, {dump_on()}, records, nullptr);
  side.account("2026-11-21", kSideT0 + 36s, {dump_on()}, records, nullptr);
  CHECK(side.meter().totals().at("miner:Dump").wh == doctest::Approx(32.5));
  CHECK(records.energy.at({"2026-11-21", "miner:Dump"}).wh == doctest::Approx(32.5));
}

TEST_CASE("energy side: a stored day read after midnight is dropped, the finished day kept in the records") {
  Restarted r;
  r.account("2026-11-21", kSideT0);
  REQUIRE(r.rec->settle(10s));  // the read of 2026-11-21 waits to be taken
  // Midnight before a cycle takes it (no recorder handed here, so that no read of the new day
  // can replace it first): the old day's 200 Wh must not become the new day's.
  r.side.account("2026-11-22", kSideT0 + 36s, {dump_on()}, r.records, nullptr);
  r.side.account("2026-11-22", kSideT0 + 72s, {dump_on()}, r.records, nullptr);
  CHECK(r.side.meter().day() == "2026-11-22");
  // The new day's 36 s only: neither the old day's stored 200 nor its last cycle.
  CHECK(r.side.meter().totals().at("miner:Dump").wh == doctest::Approx(32.5));
  CHECK(r.records.energy.count({"2026-11-21", "miner:Dump"}) == 1);
}

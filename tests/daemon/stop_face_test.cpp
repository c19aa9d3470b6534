// The recorder's stop face (issue 57: `stop(deadline)`; daemon/recorder/store_side.hpp): its last
// write within the stop's deadline, and a write held past it left behind, its loss named, without
// waiting for it. The whole daemon's stop line is checked from the outside by daemon_e2e.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "daemon/recorder/store_side.hpp"
#include "daemon/store/runtime_store.hpp"
#include "drivers/thread/deadline.hpp"
#include "tests/store/fixture.hpp"

using namespace std::chrono_literals;
using drivers::thread::Deadline;

namespace {
constexpr std::int64_t kStopWallS = 1'790'000'000;

// A StoreSide on a migrated database in `dir`, its recorder running.
struct StopSide {
  test::TempDir dir;
  std::string path = dir.file("stop.db");
  shackd::StoreSide store;
  StopSide() {
    {
      shackd::db::Db db(path, {.create = true});
      shackd::migrate(db, shackd::embedded_migrations());
    }
    auto db = std::make_unique<shackd::db::Db>(path);
    auto rt = std::make_unique<shackd::RuntimeStore>(*db);
    store.take(std::move(db), std::move(rt), {});
    store.start_recorder({});
  }
  // One event in this cycle's records: what the last write is to keep.
  void add_stop_event() {
    shackd::Event e;
    e.at_unix_s = kStopWallS;
    e.kind = "lifecycle";
    e.reason = "none";
    e.detail = "stopped";
    store.records().events.push_back(e);
  }
  std::int64_t events_written() {
    shackd::db::Db db(path);
    return db.scalar_int("SELECT count(*) FROM events WHERE detail = 'stopped'");
  }
};
}  // namespace

TEST_CASE("stop face: the recorder's last write finishes within the deadline, in time") {
  StopSide s;
  s.add_stop_event();
  const auto st = s.store.stop(kStopWallS, Deadline::after(10s));
  CHECK(st.component == "recorder");
  CHECK(st.in_time);
  CHECK(st.left_behind.empty());
  CHECK(st.took < 8s);
  s.store.close();
  CHECK(s.events_written() == 1);
}

TEST_CASE("stop face: a write held on a gate is left behind at a 50 ms deadline, its loss named") {
  StopSide s;
  auto gate = std::make_shared<std::atomic<bool>>(false);
  auto held = std::make_shared<std::atomic<bool>>(false);
  // The recorder's thread held inside a write (a card that does not answer) until the gate opens.
  REQUIRE(s.store.recorder()->post_task([gate, held](shackd::db::Db&, shackd::RuntimeStore&) {
    held->store(true);
    while (!gate->load()) std::this_thread::sleep_for(1ms);
  }));
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!held->load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  REQUIRE(held->load());
  s.add_stop_event();
  const auto t0 = std::chrono::steady_clock::now();
  const auto st = s.store.stop(kStopWallS, Deadline::after(50ms));
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(gate->load());  // it gave up with the write still held: it never waited for it
  CHECK_FALSE(st.in_time);
  CHECK(st.component == "recorder");
  CHECK(waited >= 50ms);
  CHECK(waited < 5s);
  // Its bound is what was left of the deadline when it began: 50 ms less the little the stop took
  // before it (48 ms under qemu, CI).
  const std::string head = "the last write did not finish within ", tail = " ms; 1 event(s) and load state(s) not written";
  REQUIRE(st.left_behind.size() > head.size() + tail.size());
  CHECK(st.left_behind.substr(0, head.size()) == head);
  CHECK(st.left_behind.substr(st.left_behind.size() - tail.size()) == tail);
  const std::string bound = st.left_behind.substr(head.size(), st.left_behind.size() - head.size() - tail.size());
  CHECK(bound.find_first_not_of("0123456789") == std::string::npos);
  CHECK(std::stoi(bound) <= 50);
  // Let the thread left behind end on its own (it owns what it uses), before the test's files go.
  gate->store(true);
  CHECK(s.store.recorder()->settle(10s));
  s.store.close();
  std::this_thread::sleep_for(20ms);
}

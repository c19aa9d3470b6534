// Settings from MQTT on their way to the card (daemon/intake/setting_desk.hpp), against a real
// SQLite file: a setting the database refuses leaves no trace there, not even through a later one
// that was checked together with it.
#include "tests/store/fixture.hpp"

#include <functional>
#include <vector>

#include "daemon/intake/setting_desk.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/runtime_store.hpp"
#include "tests/support/shack_profiles.hpp"

namespace {

// The recorder's queue, run by hand: each task on the connection the test gives it.
class HandQueue final : public shackd::DbTaskQueue {
 public:
  bool post_task(Task t) override {
    tasks.push_back(std::move(t));
    return true;
  }
  std::size_t max_tasks() const override { return 100; }
  double writing_s() const override { return 0; }
  void run_next(shackd::db::Db& db) {
    shackd::RuntimeStore store(db);
    tasks.front()(db, store);
    tasks.erase(tasks.begin());
  }
  std::vector<Task> tasks;
};

shackd::SettingRequest stop_voltage(const shackd::StoredProfiles& before, double v) {
  shackd::SettingRequest r;
  r.load_id = "primary_s21";
  r.field = "stop_voltage";
  r.payload = std::to_string(v);
  r.source = "mqtt: shack/load/primary_s21/stop_voltage/set";
  r.change = "stop_voltage -> " + r.payload;
  r.before = before;
  r.next = before;
  r.next.rules.miners.at(0).stop_v = v;
  return r;
}

}  // namespace

TEST_CASE("settings: one the database refused is not stored through a later one checked with it") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  shackd::db::Db db(path, {.create = true});
  shackd::migrate(db, shackd::embedded_migrations());
  const shackd::StoredProfiles p0 = test::shack_profiles();
  shackd::save_profiles(db, p0, {});
  const double stop0 = shackd::load_profiles(db).rules.miners.at(0).stop_v;

  HandQueue queue;
  shackd::SettingDesk desk;
  // Two in a row, the second checked on top of the first (ahead), as the intake checks them.
  const auto first = stop_voltage(desk.ahead(p0), stop0 - 0.25);
  CHECK_FALSE(desk.post(&queue, first));
  const auto second = stop_voltage(desk.ahead(p0), stop0 - 0.5);
  CHECK(second.before.rules.miners.at(0).stop_v == stop0 - 0.25);  // it holds the first's value
  CHECK_FALSE(desk.post(&queue, second));
  // The first meets a database that takes no write; the second a healthy one.
  {
    shackd::db::Db read_only(path, {.read_only = true});
    queue.run_next(read_only);
  }
  queue.run_next(db);
  const auto out = desk.take();
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].refused);
  CHECK(out[0].refused->rule.find("the database did not take it") == 0);
  REQUIRE(out[1].refused);
  CHECK(out[1].refused->rule.find("not stored: a setting before it") == 0);
  CHECK(shackd::load_profiles(db).rules.miners.at(0).stop_v == stop0);  // neither value stored

  // Nothing in flight: the next one is checked against the profiles in force, and stored.
  const auto third = stop_voltage(desk.ahead(p0), stop0 - 0.5);
  CHECK(third.before.rules.miners.at(0).stop_v == stop0);
  CHECK_FALSE(desk.post(&queue, third));
  queue.run_next(db);
  const auto later = desk.take();
  REQUIRE(later.size() == 1);
  CHECK_FALSE(later[0].refused);
  CHECK(shackd::load_profiles(db).rules.miners.at(0).stop_v == stop0 - 0.5);
}

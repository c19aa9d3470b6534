// A miner's numbers are checked against its kind and rating before anything uses them, and one
// bad figure never blocks the store (issue 48: a miner reporting -50 W made the day's energy
// negative; load_energy's CHECK then failed every write, events and telemetry with it, and a
// store_error alarm went out every cycle).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/miners/plausible_link.hpp"
#include "daemon/store/sqlite.hpp"
#include "drivers/miners/plausible.hpp"
#include "sim/miner_model.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/inline_miner.hpp"

namespace {

// What the daemon writes to stderr while it lives (its log), kept in a file.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = ::dup(2);
    file_ = std::tmpfile();
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A LuxOS miner whose `power` reply says `watts`, whatever it draws.
struct LyingMiner {
  sim::MinerModel model;
  double watts = -50;
  std::string handle(const std::string& req) {
    std::string reply = model.handle(req);
    if (req.find("\"power\"") == std::string::npos) return reply;
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.contains("POWER")) return reply;
    j["POWER"][0]["Watts"] = watts;
    return j.dump();
  }
};

class OneRead final : public shackd::MinerLink {
 public:
  drivers::miners::Telemetry next;
  void send(shackd::MinerOrder) override {}
  shackd::MinerReport take() override { return {next, {}}; }
};

}  // namespace

TEST_CASE("a miner's numbers outside its kind's and rating's range are not available") {
  const auto& lux = *drivers::miners::find_miner_kind("luxos");
  drivers::miners::Telemetry t;
  t.answered = true;
  t.power_w = -50;
  t.hashrate_ths = 95;
  t.max_temp_c = std::nan("");
  t.fan_rpm = 1e308;
  t.power_target_w = 3000;
  const auto dropped = drivers::miners::drop_implausible(lux, 3250.0, t);
  CHECK_FALSE(t.power_w);
  CHECK_FALSE(t.max_temp_c);
  CHECK_FALSE(t.fan_rpm);
  CHECK(*t.hashrate_ths == 95);
  CHECK(*t.power_target_w == 3000);
  REQUIRE(dropped.size() == 3);
  CHECK(dropped[0].field == "power_w");
  CHECK(dropped[0].words == "-50 W is outside 0-6500 W (a LuxOS (Luxor firmware) miner rated 3250 W)");
  // The rating narrows the draw: 9 kW from a 3.25 kW miner is not its draw; unrated, 15 kW is the ceiling.
  drivers::miners::Telemetry big;
  big.power_w = 9000;
  CHECK(drivers::miners::drop_implausible(lux, 3250.0, big).size() == 1);
  big.power_w = 9000;
  CHECK(drivers::miners::drop_implausible(lux, std::nullopt, big).empty());
  big.power_w = 1e9;
  CHECK(drivers::miners::drop_implausible(lux, std::nullopt, big).size() == 1);
}

TEST_CASE("the daemon's link drops a bad number and says so once, then once when it is back") {
  auto inner = std::make_unique<OneRead>();
  auto* read = inner.get();
  shackd::PlausibleLink link("primary_s21", *drivers::miners::find_miner_kind("luxos"), std::move(inner),
                             [] { return std::optional<double>(3250); });
  read->next.answered = true;
  StderrCapture err;
  for (int i = 0; i < 50; ++i) {
    read->next.power_w = i % 2 ? -50.0 : -1e9;
    const auto r = link.take();
    REQUIRE(r.telemetry);
    CHECK_FALSE(r.telemetry->power_w);
  }
  read->next.power_w = 3100;
  CHECK(*link.take().telemetry->power_w == 3100);
  const std::string log = err.text();
  CHECK(occurrences(log, "miner primary_s21: its API reports power_w") == 1);
  CHECK(occurrences(log, "miner primary_s21: its API's power_w is in range again") == 1);
  CHECK(link.dropped() == 50);
}

TEST_CASE("a miner reporting -50 W for 10 minutes leaves every event and telemetry row stored") {
  LyingMiner miner;
  miner.model.kind = drivers::miners::find_miner_kind("luxos");
  // Its API up a second after power on: from then on only its -50 W counts in the day's energy,
  // which goes below 0 within three minutes (3,878 W of rating for a second or two, then -50 W).
  miner.model.boot_s = 1;
  miner.model.ramp_s = 1;
  StderrCapture err;
  test::FakeSite site("miners:\n  primary_s21: {kind: luxos, host: 127.0.0.1}\n",
                      [&](const drivers::miners::MinerConfig& c) -> std::unique_ptr<shackd::MinerLink> {
                        return std::make_unique<test::InlineMiner>(
                            c.kind->make(c, [&](const std::string& req) { return miner.handle(req); }));
                      });
  REQUIRE_FALSE(site.daemon->start());
  site.set_battery(54.0);
  bool relay_on = false;
  std::size_t seen = 0;
  // Eleven minutes: the miner on from the first seconds, its API saying -50 W once booted; a
  // telemetry write every five minutes (RuntimeStore::telemetry_every_s), events as they come.
  for (int s = 0; s < 660; ++s) {
    site.cycles(1);
    const auto& pub = site.broker.published;
    for (; seen < pub.size(); ++seen) {
      if (pub[seen].topic != "cmnd/primary_s21/POWER1") continue;
      relay_on = pub[seen].payload == "ON";
      site.broker.message("stat/primary_s21/POWER1", relay_on ? "ON" : "OFF");
    }
    miner.model.advance(1.0, relay_on);
  }
  REQUIRE(relay_on);
  REQUIRE(miner.model.api_up());
  const auto events = site.broker.payloads("shack/event", 0);
  for (const auto& e : events) CHECK_MESSAGE(e.find("store_error") == std::string::npos, e);
  shackd::db::Db db((site.dir / "shackd.db").string());
  CHECK(db.scalar_int("SELECT count(*) FROM events") == static_cast<std::int64_t>(events.size()));
  CHECK(db.scalar_int("SELECT count(*) FROM telemetry") >= 9);  // the minutes up to the 600 s write
  CHECK(db.scalar_int("SELECT count(*) FROM load_energy WHERE wh < 0") == 0);
  CHECK(db.scalar_int("SELECT count(*) FROM load_energy WHERE load_id = 'miner:Primary S21+'") == 1);
  const std::string log = err.text();
  CHECK(occurrences(log, "its API reports power_w -50 W is outside 0-7756 W (a LuxOS (Luxor firmware) miner rated 3878 W)") == 1);  // said once
}

// Whether a miner follows its power target (daemon/miners/target_watch.hpp), and a soft stop that
// must cut within a bound (daemon/miners/soft_stop.hpp): pure, on a stepped clock.
#include <doctest/doctest.h>

#include "daemon/miners/soft_stop.hpp"
#include "daemon/miners/target_watch.hpp"

using namespace std::chrono_literals;
using drivers::miners::MinerState;

namespace {

struct Watched {
  shackd::TargetWatch watch{100, 300s};
  rules::SteadyTime now = rules::SteadyTime{} + 1000h;
  shackd::TargetWatchInput in;
  int reports = 0;
  std::string last;

  Watched() {
    in.following = true;
    in.taken_w = 2000;
    in.taken_at = now;
  }
  // Ten seconds on; the miner says it draws `w`, in `state`.
  void read(double w, MinerState state = MinerState::mining) {
    now += 10s;
    drivers::miners::Telemetry t;
    t.answered = true;
    t.power_w = w;
    t.state = state;
    in.latest = t;
    in.latest_at = now;
    if (const auto why = watch.step(in, now)) {
      ++reports;
      last = *why;
    }
    in.write.reset();
  }
};

}  // namespace

TEST_CASE("a miner that comes within a step of its target in its settle time follows it") {
  Watched w;
  for (double draw = 3200; draw > 2050; draw -= 40) w.read(draw);  // ramps down over 5 minutes or less
  for (int i = 0; i < 100; ++i) w.read(2030);
  CHECK_FALSE(w.watch.ignored());
  CHECK(w.reports == 0);
}

TEST_CASE("a miner that does not come within a step of its target is reported once, after its settle time") {
  Watched w;
  for (int i = 0; i < 29; ++i) w.read(3200);
  CHECK_FALSE(w.watch.ignored());  // 290 s: still within its settle time
  w.read(3200);
  w.read(3200);
  CHECK(w.watch.ignored());
  CHECK(w.last == "it draws 3200 W, not within 100 W of its 2000 W target for 300 s (it settles within 300 s)");
  for (int i = 0; i < 100; ++i) w.read(3200);
  CHECK(w.reports == 1);  // once
  // New targets do not start its clock again, and do not undo the verdict.
  Watched again;
  for (int i = 0; i < 40; ++i) {
    again.in.taken_w = 2000 - 10 * i;
    again.in.taken_at = again.now;
    again.read(3200);
  }
  CHECK(again.watch.ignored());
}

TEST_CASE("reads taken while it boots, sleeps, or before it took the target are not judged") {
  Watched w;
  for (int i = 0; i < 60; ++i) w.read(150, MinerState::unknown);  // booting: 10 minutes
  for (int i = 0; i < 60; ++i) w.read(15, MinerState::sleeping);
  CHECK_FALSE(w.watch.ignored());
  w.in.following = false;  // its relay off, or a stop under way
  for (int i = 0; i < 60; ++i) w.read(3200);
  CHECK_FALSE(w.watch.ignored());
  w.in.following = true;
  w.in.taken_at = w.now + 1000s;  // the read below is older than the target
  w.read(3200);
  CHECK_FALSE(w.watch.ignored());
}

TEST_CASE("a firmware that refuses its target three times running, or says it takes none, is reported") {
  Watched w;
  for (int i = 0; i < 2; ++i) {
    w.in.write = drivers::miners::CommandResult{false, "powertargetset: no session"};
    w.read(2000);
  }
  w.in.write = drivers::miners::CommandResult{true, "ok"};  // one that went through resets the count
  w.read(2000);
  for (int i = 0; i < 2; ++i) {
    w.in.write = drivers::miners::CommandResult{false, "refused (Code 14)"};
    w.read(2000);
  }
  CHECK_FALSE(w.watch.ignored());
  w.in.write = drivers::miners::CommandResult{false, "refused (Code 14)"};
  w.read(2000);
  CHECK(w.watch.ignored());
  CHECK(w.last == "it refused its power target three times in a row (refused (Code 14))");

  Watched none;
  none.in.write = drivers::miners::CommandResult{false, "not in a power-targeting mode", true};
  none.read(2000);
  CHECK(none.watch.ignored());
  CHECK(none.reports == 1);
}

TEST_CASE("a soft stop told to cut within a bound cuts then, whatever the miner still draws") {
  shackd::SoftStop stop(60, 90s);
  rules::SteadyTime now = rules::SteadyTime{} + 1000h;
  drivers::miners::Telemetry t;
  t.answered = true;
  t.power_w = 3000;
  shackd::SoftStopInput in;
  in.want_on = true;
  in.answering = true;
  in.latest = t;
  in.latest_at = now;
  REQUIRE(stop.step(in, now).relay_on);
  in.want_on = false;
  in.cut_within = 20s;
  auto s = stop.step(in, now += 2s);
  CHECK(s.send == shackd::MinerCommand::sleep);
  in.sleep_done = drivers::miners::CommandResult{true, "ok"};
  CHECK(stop.step(in, now += 2s).relay_on);
  in.sleep_done.reset();
  int cycles = 0;
  while (stop.step(in, now += 2s).relay_on) ++cycles;
  CHECK(cycles == 8);  // cut 20 s after the stop began, not 90
}

TEST_CASE("a stop keeps what it began as: a safety stop, and a bound, said on its first cycle only") {
  // The rules say why on each cycle: emergency_stop (or target_too_slow) on the stop's first,
  // then why the miner, now off, waits (below_start_voltage). The stop is what it began as.
  drivers::miners::Telemetry t;
  t.answered = true;
  t.power_w = 3000;
  for (const bool safety : {true, false}) {
    CAPTURE(safety);
    shackd::SoftStop stop(60, 90s);
    rules::SteadyTime now = rules::SteadyTime{} + 1000h;
    shackd::SoftStopInput in;
    in.want_on = true;
    in.answering = true;
    in.latest = t;
    in.latest_at = now;
    REQUIRE(stop.step(in, now).relay_on);
    in.want_on = false;
    if (safety) in.urgent = true;
    else in.cut_within = 20s;
    CHECK(stop.step(in, now += 2s).send == shackd::MinerCommand::sleep);
    in.urgent = false;
    in.cut_within.reset();
    in.sleep_done = drivers::miners::CommandResult{true, "ok"};
    int cycles = 0;
    while (stop.step(in, now += 2s).relay_on && cycles < 100) {
      in.sleep_done.reset();
      in.latest_at = now;  // it answers, still drawing 3000 W
      ++cycles;
    }
    CHECK(cycles == (safety ? 0 : 9));  // cut next cycle; 20 s after the stop began, not 90
  }
}

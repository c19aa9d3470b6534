// A device's poll worker on its own tick (daemon/loop/poller.hpp, issue 57's CPU): told when the
// loop's next cycle starts, it polls shortly before it with nobody asking, so that the loop's
// request finds the poll done and wakes no thread; the poll after that it plans itself; with no
// plan it polls on request, the fallback. A real worker thread against a simulated EG4 on
// loopback, counted by the requests the simulator answered.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "daemon/loop/poller.hpp"
#include "drivers/eg4.hpp"
#include "sim/server.hpp"
#include "tests/support/lookups.hpp"

using namespace std::chrono_literals;

namespace {

// Input registers 0-79 and holding register 101 at unit 1: the EG4's three requests a poll.
std::vector<sim::UnitSpec> ticked_units() {
  return {{1, &drivers::eg4::input_table(), 0, 80}, {1, &drivers::eg4::holding_table(), 80, 40}};
}

// Whether the simulator has answered `n` requests within 5 s (looked at every millisecond: the
// worker's poll is on its own thread, and nothing else tells the test it happened).
bool served(const sim::DeviceServer& server, long long n) {
  const auto bound = std::chrono::steady_clock::now() + 5s;
  while (server.requests() < n) {
    if (std::chrono::steady_clock::now() > bound) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a poll worker polls on its own tick before the loop's cycle, the next one planned by itself") {
  sim::SiteModel model;
  std::mutex model_mutex;
  sim::DeviceServer server("eg4", "127.0.0.1", 0, ticked_units(), model, model_mutex);
  server.serve_writable(1, 101, 80, false);
  server.start();
  auto settings = drivers::defaults_of(drivers::eg4::kind());
  settings.transport = drivers::TcpTransport{"127.0.0.1", server.port()};
  settings.pacing = 0ms;
  shackd::PollWorker worker(drivers::device_config(settings));

  // No plan: a poll on request, waited for (the fallback, and how it was before the tick).
  worker.request();
  const auto asked = worker.wait(std::chrono::steady_clock::now() + 5s);
  REQUIRE(asked);
  CHECK(test::reading(*asked, "eg4.battery_v"));
  const long long per_poll = server.requests();
  REQUIRE(per_poll == 3);

  // Planned: it polls before the cycle with nobody asking, and the loop's request at the cycle
  // takes that poll without another.
  const auto interval = 1000ms;
  const auto cycle = std::chrono::steady_clock::now() + 300ms;
  worker.plan(cycle, interval);
  REQUIRE(served(server, 2 * per_poll));
  worker.request();
  const auto planned = worker.wait(std::chrono::steady_clock::now() + 5s);
  REQUIRE(planned);
  CHECK(test::reading(*planned, "eg4.battery_v"));
  CHECK(server.requests() == 2 * per_poll);

  // The next cycle's poll it planned itself: the loop's plan finds it so, and a wait with no
  // request gets it (before the tick, a wait with no request saw no poll at all).
  worker.plan(cycle + interval, interval);
  const auto next = worker.wait(cycle + interval + 5s);
  REQUIRE(next);
  CHECK(test::reading(*next, "eg4.battery_v"));
  CHECK(server.requests() == 3 * per_poll);
  server.stop();
}

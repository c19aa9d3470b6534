// The controller's health component at its seam (daemon/host/host_watch.hpp), on a fake Pi's
// sysfs (tests/support/fake_pi.hpp) with the loop's clock stepped by hand: an alarm sensed before
// the rules is told once, after, through the function it is handed. (<prefix>/host is the
// publisher's: publish_test.cpp.)
#include "daemon/host/host_watch.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/fake_pi.hpp"

namespace {

using namespace shackd;
using namespace std::chrono_literals;

const rules::SteadyTime watch_t0 = rules::SteadyTime{} + 1000s;

// A read as the loop sees it: started by one cycle (on the reader's thread), taken by a later one.
void read_at(HostWatch& host, const HostConfig& config, rules::SteadyTime t) {
  host.sense(config, t);
  REQUIRE(host.settle(10s));
  host.sense(config, t);
}

}  // namespace

TEST_CASE("host watch: an under-voltage is told once, after; a reload that turns host: off") {
  test::FakePi pi;
  HostConfig config{.enabled = true, .root = pi.root.string(), .limits = {}, .interval = std::chrono::seconds(10)};
  HostWatch host;
  std::vector<std::pair<bool, std::string>> told;
  const auto alarm = [&](bool raised, const std::string& text) { told.emplace_back(raised, text); };

  host.sense(config, watch_t0);
  CHECK_FALSE(host.present());  // the read is the reader's thread's: taken at a later cycle
  REQUIRE(host.settle(10s));
  host.sense(config, watch_t0);
  REQUIRE(host.present());
  const std::string before = host.health().json();
  host.tell(alarm);
  CHECK(told.empty());

  pi.throttled(0x1);  // under-voltage now (raspberrypi-firmware's bit 0)
  host.sense(config, watch_t0 + 5s);  // not yet its interval: nothing read
  host.tell(alarm);
  CHECK(told.empty());
  read_at(host, config, watch_t0 + 10s);
  CHECK(told.empty());  // sensed before the rules, told only by tell()
  host.tell(alarm);
  REQUIRE(told.size() == 1);
  CHECK(told[0].first);
  CHECK(told[0].second.rfind("controller_under_voltage: ", 0) == 0);
  host.tell(alarm);
  CHECK(told.size() == 1);  // once
  CHECK(host.health().json() != before);  // the document the publisher is handed changed with the alarm

  // A reload that turns host: off: the reader is made afresh from the config, with nothing to say.
  host.sense(HostConfig{.enabled = false}, watch_t0 + 20s);
  CHECK_FALSE(host.present());
}

// The controller's health component at its seam (daemon/host/host_watch.hpp), on a fake Pi's
// sysfs (tests/support/fake_pi.hpp) with the loop's clock stepped by hand: an alarm sensed before
// the rules is told once, after, through the function it is handed; <prefix>/host goes out when
// it changed or when everything is sent.
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

}  // namespace

TEST_CASE("host watch: an under-voltage is told once, after; <prefix>/host only when it changed") {
  test::FakePi pi;
  HostConfig config{.enabled = true, .root = pi.root.string(), .limits = {}, .interval = std::chrono::seconds(10)};
  HostWatch host;
  std::vector<std::string> sent;
  const auto send = [&](const std::string& j) {
    sent.push_back(j);
    return true;
  };
  std::vector<std::pair<bool, std::string>> told;
  const auto alarm = [&](bool raised, const std::string& text) { told.emplace_back(raised, text); };

  host.sense(config, watch_t0);
  REQUIRE(host.present());
  host.publish(false, send);
  host.publish(false, send);  // unchanged: not again
  REQUIRE(sent.size() == 1);
  host.publish(true, send);   // everything (a reconnect): again
  CHECK(sent.size() == 2);
  host.tell(alarm);
  CHECK(told.empty());

  pi.throttled(0x1);  // under-voltage now (raspberrypi-firmware's bit 0)
  host.sense(config, watch_t0 + 5s);  // not yet its interval: nothing read
  host.tell(alarm);
  CHECK(told.empty());
  host.sense(config, watch_t0 + 10s);
  CHECK(told.empty());  // sensed before the rules, told only by tell()
  host.tell(alarm);
  REQUIRE(told.size() == 1);
  CHECK(told[0].first);
  CHECK(told[0].second.rfind("controller_under_voltage: ", 0) == 0);
  host.tell(alarm);
  CHECK(told.size() == 1);  // once
  host.publish(false, send);
  REQUIRE(sent.size() == 3);  // the document changed with the alarm
  CHECK(sent[2] != sent[1]);

  // A reload that turns host: off: the reader is made afresh from the config, with nothing to say.
  host.sense(HostConfig{.enabled = false}, watch_t0 + 20s);
  CHECK_FALSE(host.present());
  host.publish(true, send);
  CHECK(sent.size() == 3);
}

TEST_CASE("host watch: a document the link refused goes again, unchanged or not") {
  test::FakePi pi;
  HostConfig config{.enabled = true, .root = pi.root.string(), .limits = {}, .interval = std::chrono::seconds(10)};
  HostWatch host;
  int offered = 0;
  bool link_takes = false;  // paho's buffer full in the first cycle's burst (drivers/mqtt/client.cpp)
  std::vector<std::string> taken;
  const auto send = [&](const std::string& j) {
    ++offered;
    if (link_takes) taken.push_back(j);
    return link_takes;
  };
  host.sense(config, watch_t0);
  REQUIRE(host.present());
  host.publish(true, send);
  CHECK(offered == 1);
  CHECK(taken.empty());
  link_takes = true;
  host.publish(false, send);  // the same document, never taken: offered again
  CHECK(offered == 2);
  REQUIRE(taken.size() == 1);
  host.publish(false, send);  // taken: not again
  CHECK(offered == 2);
}

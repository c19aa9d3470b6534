// The Deye family's device type (register 0): each map reads its own family and refuses the
// others, reading nothing from and writing nothing to a unit it does not fit (the single-phase
// charge limit 210 is a read-only BMS value on the three-phase map); the low-voltage three-phase
// kind polled from a simulated unit on loopback.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>

#include "drivers/deye_3p.hpp"
#include "drivers/modbus_device.hpp"
#include "sim/server.hpp"
#include "drivers/solark.hpp"
#include "tests/support/lookups.hpp"

using namespace std::chrono_literals;

namespace {

drivers::ModbusDevice device_of(const drivers::DeviceKind& kind, int port) {
  auto settings = drivers::defaults_of(kind);
  settings.transport = drivers::TcpTransport{"127.0.0.1", port};
  settings.pacing = 0ms;
  settings.timeout = 500ms;
  return drivers::ModbusDevice(drivers::device_config(settings));
}

using test::reading;

struct Site {
  sim::SiteModel model;
  std::mutex mutex;
  Site() { model.rest_v = 51.8; }
};

}  // namespace

TEST_CASE("a three-phase unit on the single-phase map is refused: nothing read, the charge limit never written") {
  Site site;
  sim::UnitSpec unit{1, &drivers::solark::table(), 79, 113};
  unit.device_type = 0x0005;
  sim::DeviceServer server("solark", "127.0.0.1", 0, {unit}, site.model, site.mutex);
  server.serve_writable(1, 210, 185, true);
  server.start();
  auto solark = device_of(drivers::solark::kind(), server.port());

  const auto r = solark.poll();
  CHECK(r.readings.empty());
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.errors.front() ==
        "solark solark: unit 1 register 0 reads 0x0005, a Deye/Sunsynk low-voltage three-phase hybrid, which this map "
        "does not fit (configure it as kind: deye_3p): nothing is read from it or written to it");
  CHECK(r.requests == 1);  // the device type only
  CHECK(solark.poll().readings.empty());  // and so every poll of this connection

  const auto w = solark.swap_register(1, 210, 0);
  CHECK(w.error.find("does not fit") != std::string::npos);
  CHECK(server.writes() == 0);
  CHECK(server.writable(1, 210) == 185);
  server.stop();
}

TEST_CASE("a device type the public maps do not name is read as configured, and said in its health") {
  Site site;
  sim::UnitSpec unit{1, &drivers::solark::table(), 79, 113};
  unit.device_type = 0x0999;
  sim::DeviceServer server("solark", "127.0.0.1", 0, {unit}, site.model, site.mutex);
  server.start();
  auto solark = device_of(drivers::solark::kind(), server.port());
  const auto r = solark.poll();
  CHECK(r.errors.empty());
  CHECK(reading(r, "solark.battery_v"));
  REQUIRE(solark.health().identity.size() == 1);
  CHECK(solark.health().identity[0] == "solark: device type 0x0999, which the public maps do not name: read as configured");
  server.stop();
}

TEST_CASE("the low-voltage three-phase kind: its own map in one read, its charge limit at 108, the single-phase family refused") {
  Site site;
  site.model.pv_w = 4000;
  sim::DeviceServer server("deye3p", "127.0.0.1", 0, {{1, &drivers::deye_3p::table(), 100, 576}}, site.model, site.mutex);
  server.serve_writable(1, 108, 120, true);
  server.start();
  auto deye = device_of(drivers::deye_3p::kind(), server.port());
  const auto r = deye.poll();
  CHECK_MESSAGE(r.errors.empty(), (r.errors.empty() ? "" : r.errors.front()));
  CHECK(r.requests == 2);  // the device type, then 555-675 in one read
  double v = 0, a = 0, load = 0;
  {
    std::lock_guard lock(site.mutex);
    v = *site.model.value("deye3p", "battery_v");
    a = *site.model.value("deye3p", "battery_a");
    load = *site.model.value("deye3p", "load_w");
  }
  REQUIRE(reading(r, "deye3p.battery_v"));
  CHECK(*reading(r, "deye3p.battery_v") == doctest::Approx(v).epsilon(0.001));
  REQUIRE(reading(r, "deye3p.battery_a"));
  CHECK(*reading(r, "deye3p.battery_a") == doctest::Approx(a).epsilon(0.01));  // + = charging, as everywhere
  CHECK(*reading(r, "deye3p.load_w") == doctest::Approx(load).epsilon(0.01));
  CHECK(reading(r, "deye3p.pv1_w"));
  REQUIRE(deye.health().identity.size() == 1);
  CHECK(deye.health().identity[0] == "deye3p: a Deye/Sunsynk low-voltage three-phase hybrid (device type 0x0005)");

  const auto w = deye.swap_register(1, 108, 0);
  CHECK(w.error.empty());
  CHECK(w.previous == 120);
  CHECK(server.writable(1, 108) == 0);
  server.stop();

  // A single-phase hybrid on this map is refused, and told where it belongs.
  sim::UnitSpec single{1, &drivers::deye_3p::table(), 555, 121};
  single.device_type = 0x0003;
  sim::DeviceServer other("deye3p", "127.0.0.1", 0, {single}, site.model, site.mutex);
  other.start();
  auto wrong = device_of(drivers::deye_3p::kind(), other.port());
  const auto refused = wrong.poll();
  CHECK(refused.readings.empty());
  REQUIRE_FALSE(refused.errors.empty());
  CHECK(refused.errors.front().find("configure it as kind: solark") != std::string::npos);
  other.stop();
}

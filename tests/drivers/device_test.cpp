// The drivers against the simulator, a real process on loopback, with faults injected.
#include <doctest/doctest.h>

#include <thread>

#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"
#include "drivers/site_mapping.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "tests/support/modbus_proxy.hpp"
#include "tests/support/sim_process.hpp"

using namespace std::chrono_literals;

namespace {

// The devices as the config makes them, from their kinds (drivers/device_kind.hpp): a GX with a
// battery monitor, one solar charger and a temperature sensor, and a Sol-Ark, on the simulator.
drivers::DeviceSettings victron_settings(int port) {
  auto d = drivers::defaults_of(drivers::victron::kind());
  d.transport = drivers::TcpTransport{"127.0.0.1", port};
  d.unit_ids = {{100}, {225}, {226}, {24}};  // system, battery, charger_units, temperature_unit
  d.timeout = 300ms;
  return d;
}

drivers::DeviceSettings solark_settings(int port) {
  auto d = drivers::defaults_of(drivers::solark::kind());
  d.transport = drivers::TcpTransport{"127.0.0.1", port};
  d.timeout = 300ms;
  return d;
}

drivers::DeviceConfig fast_backoff(drivers::DeviceConfig c) {
  c.backoff_min = 100ms;
  c.backoff_max = 400ms;
  return c;
}
drivers::DeviceConfig victron_config(int port) { return fast_backoff(drivers::device_config(victron_settings(port))); }
drivers::DeviceConfig solark_config(int port) { return fast_backoff(drivers::device_config(solark_settings(port))); }

std::optional<double> value(const drivers::PollResult& r, const std::string& name) {
  for (const auto& x : r.readings) {
    if (x.name == name) return x.value;
  }
  return std::nullopt;
}

bool has_error(const drivers::PollResult& r, const std::string& text) {
  for (const auto& e : r.errors) {
    if (e.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("both devices read from the simulator, in as few requests as planned") {
  test::SimProcess sim({"--battery-v", "52.0", "--pv-w", "8000", "--house-w", "1850", "--internal-ohm", "0.01"});
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  drivers::ModbusDevice solark(solark_config(sim.solark_port()));
  const auto v = victron.poll();
  const auto s = solark.poll();
  CHECK(v.errors.empty());
  CHECK(s.errors.empty());
  CHECK(v.requests == 5);  // one per unit, and the battery's 1297 (a BMS's allow-to-charge)
  // 79..191 in one read, the fewest the map allows, and at this first connection its device
  // type (register 0): a single-phase hybrid, the family this map fits.
  CHECK(s.requests == 2);
  CHECK(solark.plan().size() == 1);
  REQUIRE(solark.health().identity.size() == 1);
  CHECK(solark.health().identity[0] == "solark: a Deye/Sunsynk/Sol-Ark single-phase hybrid (device type 0x0003)");
  CHECK(solark.poll().requests == 1);  // and so every cycle after

  // 8,000 W in, 1,850 W out at 52.0 V rest: +118.3 A, +1.18 V of I x R at the terminals.
  const double amps = (8000.0 - 1850.0) / 52.0;
  CHECK(*value(v, "battery.battery_v") == doctest::Approx(52.0 + amps * 0.01).epsilon(0.0002));
  CHECK(*value(v, "system.battery_v") == doctest::Approx(53.2).epsilon(0.002));  // 0.1 V resolution
  CHECK(*value(v, "battery.battery_a") == doctest::Approx(amps).epsilon(0.01));
  CHECK(*value(v, "system.pv_dc_w") == doctest::Approx(4000));
  CHECK(*value(v, "charger1.pv_w") == doctest::Approx(4000));
  CHECK(*value(v, "charger1.charge_state") == 3);
  CHECK(*value(v, "temp.temp_c") == doctest::Approx(20.0));
  // The Sol-Ark's own sign is + = discharging; the driver reports + = charging like the GX.
  CHECK(*value(s, "solark.battery_a") == doctest::Approx(amps).epsilon(0.01));
  CHECK(*value(s, "solark.battery_w") > 0);
  CHECK(*value(s, "solark.pv1_w") + *value(s, "solark.pv2_w") == doctest::Approx(4000).epsilon(0.001));
  CHECK(*value(s, "solark.load_w") == doctest::Approx(1850));
  CHECK(victron.health().last_success);
  CHECK(victron.health().consecutive_failures == 0);

  // The read path never writes.
  CHECK(sim.command("status").find("writes=0") != std::string::npos);
}

TEST_CASE("a load switched on sags the voltage by I x R, and the driver sees it") {
  test::SimProcess sim({"--battery-v", "52.0", "--house-w", "0", "--internal-ohm", "0.02", "--load", "dump=3250"});
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  const double before = *value(victron.poll(), "battery.battery_v");
  CHECK(before == doctest::Approx(52.0));
  sim.ok("load dump on");
  const double after = *value(victron.poll(), "battery.battery_v");
  CHECK(after == doctest::Approx(52.0 - 3250.0 / 52.0 * 0.02).epsilon(0.0002));  // -1.25 V
}

TEST_CASE("exception 0x0A is missing, never 0; the rest of the device keeps being read") {
  test::SimProcess sim;
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  sim.ok("fault victron exception 0x0A 225");
  const auto r = victron.poll();
  CHECK_FALSE(value(r, "battery.battery_v"));
  CHECK(value(r, "system.battery_v"));
  CHECK(has_error(r, "0x0A gateway path unavailable"));
  CHECK(victron.health().connected);
  CHECK(victron.health().consecutive_failures == 0);  // the device answered
  // A unit nobody serves answers 0x0A too.
  auto cfg = victron_config(sim.victron_port());
  cfg.units = {{239, &drivers::victron::battery_table(), "battery"}};
  drivers::ModbusDevice wrong_unit(cfg);
  const auto w = wrong_unit.poll();
  CHECK(w.readings.empty());
  CHECK(has_error(w, "0x0A"));
}

TEST_CASE("a slow device times out once per poll, and the other device is unaffected") {
  test::SimProcess sim;
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  auto small_frames = solark_config(sim.solark_port());
  small_frames.max_block = 8;  // a gateway that takes 8 registers a read: several requests a poll
  drivers::ModbusDevice solark(small_frames);
  REQUIRE(solark.plan().size() > 1);
  sim.ok("fault solark slow 1500");
  const auto s = solark.poll();
  const auto v = victron.poll();
  CHECK(s.readings.empty());
  CHECK(s.requests == 1);  // abandoned after the first timeout, not one timeout per read
  CHECK(has_error(s, "timed out"));
  CHECK(solark.health().consecutive_failures == 1);
  CHECK(solark.health().next_attempt);
  CHECK(v.errors.empty());
  CHECK(value(v, "battery.battery_v"));
  // While it backs off, a poll costs no request at all.
  const auto again = solark.poll();
  CHECK(again.requests == 0);
  CHECK(has_error(again, "backing off"));
}

TEST_CASE("garbage values are dropped as invalid, with the reason") {
  test::SimProcess sim;
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  sim.ok("fault victron garbage");
  const auto r = victron.poll();
  CHECK_FALSE(value(r, "battery.battery_v"));
  CHECK_FALSE(value(r, "system.battery_v"));
  bool reasoned = false;
  for (const auto& inv : r.invalid) {
    reasoned = reasoned || (inv.name == "battery.battery_v" && inv.why.find("327.67 outside its plausible range 20..70") != std::string::npos);
  }
  CHECK(reasoned);
}

TEST_CASE("the simulator killed and restarted: the driver recovers within its backoff") {
  test::SimProcess sim;
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  REQUIRE(victron.poll().errors.empty());
  sim.kill_hard();
  const auto dead = victron.poll();
  CHECK(dead.readings.empty());
  CHECK_FALSE(victron.health().connected);
  sim.restart();
  // Polls every 50 ms; recovery must come within the longest backoff (400 ms) plus a margin.
  bool recovered = false;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  int polls = 0;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);  // waiting on a process: bounded
    recovered = !victron.poll().readings.empty();
    ++polls;
  }
  CHECK(recovered);
  CHECK(polls <= 12);
  CHECK(victron.health().consecutive_failures == 0);
}

TEST_CASE("a gateway that closes idle connections costs a reconnect, not a missed poll") {
  test::SimProcess sim;
  drivers::ModbusDevice solark(solark_config(sim.solark_port()));
  sim.ok("fault solark idle-close 1");
  REQUIRE(solark.poll().errors.empty());
  std::this_thread::sleep_for(1500ms);  // a bounded wait on the simulator process: its gateway drops us
  const auto reconnects = solark.health().reconnects;
  const auto r = solark.poll();
  CHECK(r.errors.empty());
  CHECK(value(r, "solark.battery_v"));
  CHECK(solark.health().reconnects == reconnects + 1);
}

TEST_CASE("an offline device refuses connections; the driver backs off") {
  test::SimProcess sim;
  sim.ok("fault victron offline");
  std::this_thread::sleep_for(100ms);  // a bounded wait on the simulator process: it closes its listener
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  const auto r = victron.poll();
  CHECK(r.readings.empty());
  CHECK(has_error(r, "connect failed"));
  CHECK(victron.health().next_attempt);
}

TEST_CASE("readings become a snapshot: preferred sources, sums, missing never 0") {
  test::SimProcess sim({"--battery-v", "51.0", "--pv-w", "6000", "--house-w", "1000"});
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  drivers::ModbusDevice solark(solark_config(sim.solark_port()));
  drivers::ReadingStore store;
  store.update(victron.poll());
  store.update(solark.poll());
  const auto now = std::chrono::steady_clock::now();
  const std::vector<drivers::DeviceSettings> devices = {victron_settings(sim.victron_port()),
                                                        solark_settings(sim.solark_port())};
  const drivers::SnapshotMapping m = drivers::mapping_for(devices);
  const rules::Snapshot s = drivers::build_snapshot(store, m, now, 600);
  // The kinds' ranking: the monitor, the GX system, the Sol-Ark; named for events and people.
  REQUIRE(s.battery_v.size() == 3);
  CHECK(s.battery_v[0].name == "battery_monitor");
  CHECK(s.battery_v[1].name == "gx_system");
  CHECK(s.battery_v[2].name == "solark");
  CHECK(s.battery_v[2].label == "the Sol-Ark's battery voltage");
  for (const auto& v : s.battery_v) REQUIRE(v.reading);
  CHECK(s.battery_v[2].reading->value == doctest::Approx(s.battery_v[0].reading->value - 0.05).epsilon(0.0002));
  // Temperatures: a BMS's coldest cell first (a shunt has none: missing), then the sensors.
  REQUIRE(s.battery_temp_c.size() == 3);
  CHECK(s.battery_temp_c[0].name == "bms_min_cell");
  CHECK_FALSE(s.battery_temp_c[0].reading);
  CHECK(s.battery_temp_c[1].reading);
  CHECK(s.battery_temp_c[2].reading);
  REQUIRE(s.pv_w);
  CHECK(s.pv_w->value == doctest::Approx(6000).epsilon(0.001));
  CHECK_FALSE(s.pv_w_partial);
  REQUIRE(s.load_w);
  CHECK(s.load_w->value == doctest::Approx(1000));
  REQUIRE(s.battery_a);
  CHECK(s.local_minute_of_day == 600);

  // Without the Sol-Ark, the PV sum is the GX's half, marked partial: a lower bound the rules
  // use only where it proves enough (never as the whole).
  drivers::ReadingStore gx_only;
  gx_only.update(victron.poll());
  const rules::Snapshot half = drivers::build_snapshot(gx_only, m, std::chrono::steady_clock::now(), 600);
  REQUIRE(half.pv_w);
  CHECK(half.pv_w_partial);
  CHECK(half.pv_w->value == doctest::Approx(3000).epsilon(0.001));
  // The load is the Sol-Ark's alone: with it gone, the load is missing, not partial.
  CHECK_FALSE(half.load_w);
}

TEST_CASE("a charge-limit swap: the Sol-Ark takes function 16 only, and the value is read back") {
  test::SimProcess sim({"--battery-v", "52.0"});
  drivers::ModbusDevice solark(solark_config(sim.solark_port()));
  // The Sol-Ark's table says function 16: the simulator refuses function 6 there (0x01), as
  // Sunsynk-family inverters do, so this write only succeeds as function 16.
  const auto w = solark.swap_register(1, 210, 0);
  REQUIRE(w.error.empty());
  CHECK(*w.previous == 185);
  CHECK(sim.command("status").find("solark_max_charge_a=0 ") != std::string::npos);
  const auto back = solark.swap_register(1, 210, 185);
  REQUIRE(back.error.empty());
  CHECK(*back.previous == 0);
  CHECK(sim.command("status").find("solark_max_charge_a=185 ") != std::string::npos);
  // A register the device does not take a write to: the error names it, nothing is claimed.
  const auto refused = solark.swap_register(1, 211, 0);
  CHECK_FALSE(refused.previous);
  CHECK(refused.error.find("211") != std::string::npos);

  // The GX's DVCC limit takes function 6, and the read-back confirms it.
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  const auto d = victron.swap_register(100, 2705, 0);
  REQUIRE(d.error.empty());
  CHECK(*d.previous == -1);
  CHECK(sim.command("status").find("dvcc=0 ") != std::string::npos);
}

TEST_CASE("a temperature sensor whose status word says open circuit: its reading is invalid, not a temperature") {
  test::SimProcess sim;
  sim.ok("set battery_temp_c 12.5");
  drivers::ModbusDevice victron(victron_config(sim.victron_port()));
  const auto ok = victron.poll();
  CHECK(value(ok, "temp.temp_c") == doctest::Approx(12.5));
  CHECK(value(ok, "temp.status") == doctest::Approx(0));
  // 3305 = 1: the sensor is open; 3304 still holds a number, which must not be believed.
  sim.ok("set temperature_status 1");
  const auto open = victron.poll();
  CHECK_FALSE(value(open, "temp.temp_c"));
  CHECK(value(open, "temp.status") == doctest::Approx(1));
  bool said = false;
  for (const auto& inv : open.invalid) said = said || (inv.name == "temp.temp_c" && inv.why == "sensor status 1 (0 = OK)");
  CHECK(said);
  // The other readings of the poll are untouched.
  CHECK(value(open, "battery.battery_v"));
  sim.ok("set temperature_status 0");
  CHECK(value(victron.poll(), "temp.temp_c") == doctest::Approx(12.5));
}

// Issue 49: a Deye-family device is identified at every new connection, before anything else is
// read or written. The proxy answers the type register (holding 0) with 0x0003, a single-phase
// hybrid, then, after the connection drops, with 0x0005, a three-phase one: shackd reconnected
// and went on reading (and once writing register 210) with the single-phase map.
TEST_CASE("a Deye-family unit is identified on every connection: no read or write with a map that does not fit") {
  test::SimProcess sim;
  test::ModbusProxy proxy(sim.solark_port(), 0x0003);
  rules::SteadyTime t{};  // the device's clock: a second a poll, past any backoff
  drivers::ModbusDevice solark(solark_config(proxy.port()), [&] { return t += 1s; });
  const auto first = solark.poll();
  CHECK(first.errors.empty());
  REQUIRE(value(first, "solark.battery_v"));
  CHECK(solark.health().identity_alarms.empty());

  // Another device behind the same address after a reconnect.
  proxy.set_type(0x0005);
  proxy.drop();
  proxy.mark();
  drivers::PollResult after;
  for (int i = 0; i < 5 && !has_error(after, "which this map does not fit"); ++i) after = solark.poll();
  REQUIRE(has_error(after, "reads 0x0005, a Deye/Sunsynk low-voltage three-phase hybrid, which this map does not fit"));
  CHECK_FALSE(value(after, "solark.battery_v"));
  // The alarm names both types.
  REQUIRE(solark.health().identity_alarms.size() == 1);
  const auto& alarm = solark.health().identity_alarms[0];
  CHECK_FALSE(alarm.warning);
  CHECK(alarm.unit == "solark");
  CHECK(alarm.text.find("device type changed from 0x0003 (a Deye/Sunsynk/Sol-Ark single-phase hybrid) to 0x0005 "
                        "(a Deye/Sunsynk low-voltage three-phase hybrid)") == 0);
  // A charge block's write is refused, and never reaches the device.
  const auto w = solark.swap_register(1, 210, 0);
  CHECK_FALSE(w.error.empty());
  CHECK(w.error.find("which this map does not fit") != std::string::npos);
  for (int i = 0; i < 3; ++i) solark.poll();
  for (const auto& q : proxy.since_mark()) {
    // Nothing but the type register was asked of it: no read with the single-phase map, no write.
    CHECK_MESSAGE((q.function == 3 && q.address == 0 && q.count == 1),
                  "function " << q.function << " at " << q.address << " x" << q.count);
  }
  // The health says what it is now, not the 0x0003 of before.
  REQUIRE(solark.health().identity.size() == 1);
  CHECK(solark.health().identity[0].find("0x0005") != std::string::npos);

  // Back to a single-phase hybrid: read again at the next poll, and the alarm clears.
  proxy.set_type(0x0003);
  const auto back = solark.poll();
  CHECK(value(back, "solark.battery_v"));
  CHECK(solark.health().identity_alarms.empty());
  CHECK(solark.swap_register(1, 210, 150).error.empty());

  // A refused unit whose peer closed is not left "connected" to nobody: it is asked again each
  // poll, so the close is seen and the next connection identifies it again (it was never read
  // again, and its health said connected).
  proxy.set_type(0x0005);
  solark.poll();
  const auto reconnects = solark.health().reconnects;
  proxy.drop();
  for (int i = 0; i < 3; ++i) solark.poll();
  CHECK(solark.health().reconnects > reconnects);
  proxy.set_type(0x0003);
  CHECK(value(solark.poll(), "solark.battery_v"));
}

TEST_CASE("a unit refused for its type stays refused while its type register answers an exception (0x06 busy)") {
  // A Deye answers busy now and then. Read as configured on such an answer, a refused
  // three-phase unit was read with the single-phase map for a poll, and a charge block's write of
  // register 210 went to it.
  test::SimProcess sim;
  test::ModbusProxy proxy(sim.solark_port(), 0x0005);
  rules::SteadyTime t{};
  drivers::ModbusDevice solark(solark_config(proxy.port()), [&] { return t += 1s; });
  REQUIRE(has_error(solark.poll(), "which this map does not fit"));
  proxy.set_type_exception(0x06);
  proxy.mark();
  const auto busy = solark.poll();
  CHECK(has_error(busy, "which this map does not fit"));
  CHECK_FALSE(value(busy, "solark.battery_v"));
  CHECK(solark.swap_register(1, 210, 0).error.find("which this map does not fit") != std::string::npos);
  REQUIRE(solark.health().identity_alarms.size() == 1);
  CHECK_FALSE(solark.health().identity_alarms[0].warning);
  for (const auto& q : proxy.since_mark()) {
    CHECK_MESSAGE((q.function == 3 && q.address == 0 && q.count == 1),
                  "function " << q.function << " at " << q.address << " x" << q.count);
  }
  // A new connection that is answered busy: still refused.
  proxy.drop();
  for (int i = 0; i < 3; ++i) CHECK_FALSE(value(solark.poll(), "solark.battery_v"));
  // Its type read again, and one that fits: read at once.
  proxy.set_type_exception(0);
  proxy.set_type(0x0003);
  CHECK(value(solark.poll(), "solark.battery_v"));

  // A unit that fitted, reconnected, and busy at the identity read: it said its type before (this
  // gateway passes it), so a refusal proves nothing about who answers now. Not read nor written
  // until it says; no alarm for a busy answer.
  proxy.set_type_exception(0x06);
  proxy.drop();
  proxy.mark();
  drivers::PollResult reconnected;
  for (int i = 0; i < 3; ++i) {
    reconnected = solark.poll();
    CHECK_FALSE(value(reconnected, "solark.battery_v"));
  }
  CHECK(has_error(reconnected, "until it says its device type again"));
  CHECK(solark.swap_register(1, 210, 0).error.find("until it says its device type again") != std::string::npos);
  CHECK(solark.health().identity_alarms.empty());
  for (const auto& q : proxy.since_mark()) {
    CHECK_MESSAGE((q.function == 3 && q.address == 0 && q.count == 1),
                  "function " << q.function << " at " << q.address << " x" << q.count);
  }
  proxy.set_type_exception(0);
  CHECK(value(solark.poll(), "solark.battery_v"));
}

TEST_CASE("a Deye-family unit whose type changes to another that fits is read on, with a warning naming both") {
  test::SimProcess sim;
  test::ModbusProxy proxy(sim.solark_port(), 0x0003);
  rules::SteadyTime t{};
  drivers::ModbusDevice solark(solark_config(proxy.port()), [&] { return t += 1s; });
  REQUIRE(value(solark.poll(), "solark.battery_v"));
  proxy.set_type(0x0200);  // the 16 kW single-phase hybrid: the same map
  proxy.drop();
  drivers::PollResult r;
  for (int i = 0; i < 5 && !value(r, "solark.battery_v"); ++i) r = solark.poll();
  CHECK(value(r, "solark.battery_v"));
  REQUIRE(solark.health().identity_alarms.size() == 1);
  CHECK(solark.health().identity_alarms[0].warning);
  CHECK(solark.health().identity_alarms[0].text.find("device type is 0x0200 (a Deye/Sunsynk 16 kW single-phase hybrid), "
                                                     "not 0x0003") == 0);
}

// The rule a GX answers by (victronenergy/dbus_modbustcp, mappings.cpp DataIterator and
// backend.cpp getExceptionCode; sim/gx_map.hpp): a register whose service type the unit id lacks
// is 0x0A, wherever else the unit has; an address the map lacks is 0x02, whatever the unit; a
// read that runs past the map's end of a run is 0x02. The simulator answers so: this is what
// `shackd probe` and the drivers are tried against.
TEST_CASE("the simulated GX answers by dbus_modbustcp's rule: 0x0A for a service the unit lacks, 0x02 for an address the map lacks") {
  test::SimProcess sim({"--battery-unit", "225", "--charger-unit", "226", "--vebus-unit", "227"});
  drivers::ModbusLink link(drivers::TcpTransport{"127.0.0.1", sim.victron_port()}, 300ms);
  std::string error;
  REQUIRE(link.connect(error));
  std::uint16_t words[8]{};
  const auto code = [&](int unit, std::uint16_t address, std::uint16_t count = 1) {
    const auto r = link.read(unit, address, count, words);
    return r.status == drivers::ReadStatus::ok ? 0 : r.status == drivers::ReadStatus::exception ? r.exception_code : -1;
  };
  CHECK(code(225, 259) == 0);      // the battery monitor's voltage
  CHECK(code(226, 259) == 0x0A);   // a solar charger's unit has no battery service: not "nothing here"
  CHECK(code(226, 775) == 0);      // ... it has its own
  CHECK(code(225, 775) == 0x0A);
  CHECK(code(227, 26) == 0);       // a VE.Bus unit's DC voltage
  CHECK(code(227, 259) == 0x0A);
  CHECK(code(57, 259) == 0x0A);    // an empty unit id: 0x0A too, for every service
  CHECK(code(57, 775) == 0x0A);
  CHECK(code(225, 500) == 0x02);   // not in the map: 0x02, whatever the unit
  CHECK(code(57, 500) == 0x02);
  CHECK(code(225, 330, 4) == 0x02);  // 256-331 then a gap: running into it
  CHECK(code(100, 840) == 0);
  CHECK(code(100, 259) == 0x0A);   // the system's unit has no battery service
}

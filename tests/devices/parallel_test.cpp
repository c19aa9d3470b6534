// Devices as named instances: two Sol-Arks in parallel on one bank and a GX, each a device of its
// own (devices.<name> with kind:), polled side by side from simulated units on loopback. Their PV
// and load are summed, one going offline leaves a lower bound (the rules' partial sums), and a
// cold block holds both inverters' charge limits at 0 A and puts each back.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/loop/daemon.hpp"
#include "drivers/readings.hpp"
#include "drivers/site_mapping.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "sim/server.hpp"
#include "tests/support/device_site.hpp"
#include "tests/support/fake_link.hpp"

namespace {

std::string devices_section(int gx, int a, int b) {
  return fmt::format(
      "devices:\n"
      "  gx: {{kind: victron, host: 127.0.0.1, port: {}, timeout_ms: 300}}\n"
      "  solark_a: {{kind: solark, host: 127.0.0.1, port: {}, unit: 1, timeout_ms: 300, max_charge_a: 150}}\n"
      "  solark_b: {{kind: solark, host: 127.0.0.1, port: {}, unit: 1, timeout_ms: 300, max_charge_a: 150}}\n",
      gx, a, b);
}

}  // namespace

TEST_CASE("devices by name: two instances of a kind read as theirs, the GX's units under its name") {
  const auto r = shackd::parse_config(devices_section(502, 503, 504) + "safety:\n  charge_block_action: [dvcc, solark]\n" +
                                          test::kShackRelays,
                                      "t.yaml");
  REQUIRE(r.errors.empty());
  const auto& c = *r.config;
  REQUIRE(c.devices.size() == 3);
  CHECK(c.devices[0].name == "gx");
  CHECK(c.devices[1].name == "solark_a");
  CHECK(c.devices[2].name == "solark_b");
  CHECK(c.device_warnings.empty());
  CHECK(c.battery_v_readings == std::vector<std::string>{"gx_battery.battery_v", "gx_system.battery_v",
                                                         "solark_a.battery_v", "solark_b.battery_v"});
  CHECK(c.pv_readings == std::vector<std::string>{"gx_system.pv_dc_w", "solark_a.pv1_w", "solark_a.pv2_w",
                                                  "solark_a.pv3_w", "solark_a.pv4_w", "solark_b.pv1_w",
                                                  "solark_b.pv2_w", "solark_b.pv3_w", "solark_b.pv4_w"});
  CHECK(c.load_readings == std::vector<std::string>{"solark_a.load_w", "solark_b.load_w"});
  // The battery current: the GX's own measurements first, then the inverters' shares, summed.
  auto mapping = drivers::mapping_for(c.devices);
  CHECK(mapping.battery_a == std::vector<std::vector<std::string>>{
                                 {"gx_battery.battery_a"}, {"gx_system.battery_a"}, {"solark_a.battery_a", "solark_b.battery_a"}});
  drivers::ReadingStore store;
  const drivers::SteadyTime now{std::chrono::seconds(1000)};
  store.set("solark_a.battery_a", -3.0, now);
  store.set("solark_b.battery_a", -3.5, now);
  auto snap = drivers::build_snapshot(store, mapping, now, std::nullopt);
  REQUIRE(snap.battery_a);
  CHECK(snap.battery_a->value == doctest::Approx(-6.5));
  store.set("gx_system.battery_a", -6.4, now - std::chrono::seconds(60));  // stale: the shares decide
  CHECK(drivers::build_snapshot(store, mapping, now, std::nullopt).battery_a->value == doctest::Approx(-6.5));
  store.set("gx_system.battery_a", -6.4, now);
  CHECK(drivers::build_snapshot(store, mapping, now, std::nullopt).battery_a->value == doctest::Approx(-6.4));

  const auto limits = shackd::devices::charge_limits(c);
  REQUIRE(limits.size() == 3);
  CHECK(limits[0].spec.name == "gx_dvcc");
  CHECK(limits[1].spec.name == "solark_a_solark_charge_limit");
  CHECK(limits[1].device == "solark_a");
  CHECK(limits[2].spec.name == "solark_b_solark_charge_limit");
  CHECK(limits[2].spec.label == "Sol-Ark battery max charge current (210) on solark_b");
  CHECK(limits[2].configured);
  const auto lines = shackd::devices::describe(c);
  CHECK(lines[1].starts_with("device solark_a (a Sol-Ark"));
  CHECK(lines[3] ==
        "battery voltage, best first: the battery monitor's voltage on gx (gx_battery.battery_v), the GX system's "
        "battery voltage on gx (gx_system.battery_v), the Sol-Ark's battery voltage on solark_a (solark_a.battery_v), "
        "the Sol-Ark's battery voltage on solark_b (solark_b.battery_v)");
}

TEST_CASE("devices by name: what the owner gets wrong is named, and the old form says how to move on") {
  const auto errors = [](const std::string& devices) {
    const auto r = shackd::parse_config("devices:\n" + devices + test::kShackRelays, "t.yaml");
    std::string all;
    for (const auto& e : r.errors) all += e + "\n";
    return all;
  };
  CHECK(errors("  inverter: {host: 10.0.0.2}\n")
            .find("devices.inverter (line 2:13): say which kind of device it is: kind: one of victron, solark") !=
        std::string::npos);
  CHECK(errors("  victorn: {host: 10.0.0.2}\n").find("(or did you mean devices.victron?)") != std::string::npos);
  CHECK(errors("  inv: {kind: solarc}\n").find("devices.inv.kind") != std::string::npos);
  CHECK(errors("  Inv-1: {kind: solark}\n").find("a device id is 1-40 of a-z, 0-9 and _") != std::string::npos);
  // A Sol-Ark named "system" would read as the GX's system unit.
  CHECK(errors("  victron: {}\n  system: {kind: solark}\n")
            .find("devices.system: its readings would be named system.<field>, as those of devices.victron") !=
        std::string::npos);
  CHECK(errors("  a: {kind: solark, transport: rtu, device: /dev/ttyUSB0}\n"
               "  b: {kind: solark, transport: rtu, device: /dev/ttyUSB0, unit: 2}\n")
            .find("devices.b: /dev/ttyUSB0 is devices.a's serial line too") != std::string::npos);
  CHECK(errors("  a: {kind: solark}\n  b: {kind: solark}\nsafety:\n  charge_block_action: solark\n")
            .find("devices.b.max_charge_a: required with solark") != std::string::npos);

  const auto old = shackd::parse_config("devices:\n  solark: {host: 10.0.0.2}\n" + std::string(test::kShackRelays), "t.yaml");
  REQUIRE(old.errors.empty());
  REQUIRE(old.config->device_warnings.size() == 1);
  CHECK(old.config->device_warnings[0] ==
        "devices.solark: a section named after its kind, without kind:, is read as one device named solark; add "
        "`kind: solark` to it to say so (its readings stay solark.*), or give it a name of your own to configure "
        "more than one (solark_a: {kind: solark, ...} reads solark_a.*)");
  CHECK(old.config->battery_v_readings == std::vector<std::string>{"solark.battery_v"});
  // A kind of two units named after it (the EG4's readings and its settings): the device's name
  // in the kind's place.
  const auto eg4 = shackd::parse_config("devices:\n  eg4_b: {kind: eg4, transport: rtu, device: /dev/ttyUSB1, max_charge_a: 100}\n"
                                        "safety:\n  charge_block_action: eg4\n" + std::string(test::kShackRelays),
                                        "t.yaml");
  REQUIRE(eg4.errors.empty());
  CHECK(eg4.config->battery_v_readings == std::vector<std::string>{"eg4_b.battery_v"});
  CHECK(drivers::mapping_for(eg4.config->devices).battery_v[0].name == "eg4_b");
  const auto eg4_limits = shackd::devices::charge_limits(*eg4.config);
  REQUIRE(eg4_limits.size() == 1);
  CHECK(eg4_limits[0].spec.name == "eg4_b_eg4_charge_limit");
  CHECK(drivers::units_of(eg4.config->devices[0])[1].prefix == "eg4_b_settings");

  const auto said = shackd::parse_config("devices:\n  solark: {kind: solark, host: 10.0.0.2}\n" + std::string(test::kShackRelays),
                                         "t.yaml");
  REQUIRE(said.errors.empty());
  CHECK(said.config->device_warnings.empty());
  CHECK(said.config->devices == old.config->devices);
}

TEST_CASE("two Sol-Arks in parallel and a GX: PV and load summed, one offline a lower bound, both charge limits held") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  model.pv_w = 4000;  // half on the GX's MPPTs, a quarter on each Sol-Ark
  model.house_w = 1500;
  model.parallel_inverters = 2;
  model.battery_temp_c = 20;
  std::mutex model_mutex;
  sim::DeviceServer gx("gx", "127.0.0.1", 0,
                       {{100, &drivers::victron::system_table(), 800, 120},
                        {225, &drivers::victron::battery_table(), 256, 1329 - 256, {{332, 1281}}}},
                       model, model_mutex);
  gx.serve_gx_settings();
  std::vector<std::unique_ptr<sim::DeviceServer>> solarks;
  for (const char* name : {"solark_a", "solark_b"}) {
    solarks.push_back(std::make_unique<sim::DeviceServer>(
        name, "127.0.0.1", 0, std::vector<sim::UnitSpec>{{1, &drivers::solark::table(), 0, 331}}, model, model_mutex));
    solarks.back()->serve_writable(1, 210, 150, true);
  }
  sim::DeviceServer& a = *solarks[0];
  sim::DeviceServer& b = *solarks[1];
  gx.start();
  a.start();
  b.start();

  const test::TempDir tmp("parallel");
  const std::filesystem::path& dir = tmp.path;
  const auto config = dir / "shackd.yaml";
  std::ofstream(config) << test::config_head(dir)
                        << devices_section(gx.port(), a.port(), b.port())
                        << "safety:\n  charge_block_action: [dvcc, solark]\n"
                        << test::kShackRelays << test::kOneMinerProfiles;

  std::map<std::string, std::string> topics;
  test::FakeBroker broker;  // what the daemon publishes, through its whole MQTT side
  broker.on_publish = [&](const test::FakeBroker::Message& m) { topics[m.topic] = m.payload; };
  shackd::Seams seams;
  seams.make_mqtt = test::links_to(broker);
  {
    shackd::Daemon daemon(shackd::RunOptions{config.string(), false, false}, std::move(seams));
    REQUIRE_FALSE(daemon.start());
    const auto cycle_until = [&](auto done) { return test::cycle_until(daemon, done); };
    // The record in force's snapshot, read again after each cycle (each cycle has a record of its own).
    const auto snap = [&]() -> const rules::Snapshot& { return daemon.loop().snapshot(); };
    const auto whole = [&] { return snap().pv_w && !snap().pv_w_partial && snap().load_w && !snap().load_w_partial; };
    REQUIRE(cycle_until(whole));
    CHECK(snap().pv_w->value == doctest::Approx(4000).epsilon(0.01));
    CHECK(snap().load_w->value == doctest::Approx(1500).epsilon(0.01));
    REQUIRE_FALSE(snap().battery_v.empty());
    CHECK(snap().battery_v[0].name == "gx_battery_monitor");
    CHECK(snap().battery_v[2].name == "solark_a");
    CHECK(snap().battery_v[3].name == "solark_b");
    CHECK(cycle_until([&] { return topics.count("shack/device/solark_b/health") && topics.count("shack/device/gx/health"); }));

    SUBCASE("a cold battery holds both inverters' limits and the DVCC at 0 A, and puts each back") {
      {
        std::lock_guard lock(model_mutex);
        model.battery_temp_c = -5;
      }
      CHECK(cycle_until([&] { return a.writable(1, 210) == 0 && b.writable(1, 210) == 0 && gx.dvcc_max_charge_current() == 0; }));
      {
        std::lock_guard lock(model_mutex);
        model.battery_temp_c = 15;
      }
      CHECK(cycle_until([&] { return a.writable(1, 210) == 150 && b.writable(1, 210) == 150; }));
      CHECK(gx.dvcc_max_charge_current() == -1);
    }
    SUBCASE("one inverter offline: its share is missing, the sums are lower bounds, the decision goes on") {
      b.set_faults({.offline = true});
      REQUIRE(cycle_until([&] { return snap().pv_w_partial && snap().load_w_partial; }));
      REQUIRE(snap().pv_w);
      CHECK(snap().pv_w->value == doctest::Approx(3000).epsilon(0.01));
      REQUIRE(snap().load_w);
      CHECK(snap().load_w->value == doctest::Approx(750).epsilon(0.01));
      CHECK(daemon.loop().decision().battery.source == 0);  // still the GX's battery monitor
      CHECK(cycle_until([&] { return topics["shack/device/solark_b/health"].find("\"connected\":false") != std::string::npos; }));
      CHECK(topics["shack/device/solark_a/health"].find("\"connected\":true") != std::string::npos);
      b.set_faults({});
      CHECK(cycle_until(whole));
    }
  }
  b.stop();
  a.stop();
  gx.stop();
}

TEST_CASE("a Sol-Ark named while shackd held its limit at 0 A: the named device puts it back") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  model.battery_temp_c = -5;
  std::mutex model_mutex;
  sim::DeviceServer solark("solark", "127.0.0.1", 0, {{1, &drivers::solark::table(), 0, 331}}, model, model_mutex);
  solark.serve_writable(1, 210, 150, true);
  solark.start();
  const test::TempDir tmp("renamed");
  const std::filesystem::path& dir = tmp.path;
  const auto config = dir / "shackd.yaml";
  const auto write_config = [&](const std::string& device) {
    std::ofstream(config) << test::config_head(dir)
                          << "devices:\n  " << device << ": {host: 127.0.0.1, port: " << solark.port()
                          << ", unit: 1, timeout_ms: 300, max_charge_a: 150}\n"
                          << "safety:\n  charge_block_action: solark\n"
                          << test::kShackRelays << test::kOneMinerProfiles;
  };
  write_config("solark");  // the form before names
  {
    shackd::Daemon daemon(shackd::RunOptions{config.string(), false, false}, shackd::Seams{});
    REQUIRE_FALSE(daemon.start());
    REQUIRE(test::cycle_until(daemon, [&] { return solark.writable(1, 210) == 0; }));
  }  // stopped while cold: the database says the limit is held at 0 A
  {
    std::lock_guard lock(model_mutex);
    model.battery_temp_c = 15;
  }
  write_config("solark_a");  // named: kind: is needed now
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("solark_a: {"), 11, "solark_a: {kind: solark, ");
  std::ofstream(config) << text;
  {
    shackd::Daemon daemon(shackd::RunOptions{config.string(), false, false}, shackd::Seams{});
    REQUIRE_FALSE(daemon.start());
    CHECK(test::cycle_until(daemon, [&] { return solark.writable(1, 210) == 150; }));
  }
  solark.stop();
}

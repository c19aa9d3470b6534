// One full poll of both devices (GX: 4 units; Sol-Ark: 1 unit) against the simulator on
// loopback, against the floor: the same reads made with bare libmodbus calls and nothing else,
// timed in the same run, interleaved. Goal (issue 4): <= 1.3x the floor.
// Run: build/bench/poll_bench [ROUNDS]
#include <fmt/format.h>
#include <modbus.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/modbus_device.hpp"
#include "sim/model.hpp"
#include "sim/server.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 2000;
  using namespace drivers::victron;
  sim::SiteModel model;
  std::mutex mutex;
  sim::DeviceServer gx("victron", "127.0.0.1", 0,
                       {{100, &system_table(), 800, 120}, {225, &battery_table(), 256, 76},
                        {226, &solarcharger_table(), 771, 23}, {24, &temperature_table(), 3300, 28}},
                       model, mutex);
  sim::DeviceServer sa("solark", "127.0.0.1", 0, {{1, &drivers::solark::table(), 0, 331}}, model, mutex);
  gx.start();
  sa.start();

  drivers::DeviceConfig vc;
  vc.name = "victron";
  vc.transport = drivers::TcpTransport{"127.0.0.1", gx.port()};
  vc.units = {{100, &system_table(), "system"}, {225, &battery_table(), "battery"},
              {226, &solarcharger_table(), "charger"}, {24, &temperature_table(), "temp"}};
  drivers::DeviceConfig sc;
  sc.name = "solark";
  sc.transport = drivers::TcpTransport{"127.0.0.1", sa.port()};
  sc.units = {{1, &drivers::solark::table(), "solark"}};
  drivers::ModbusDevice victron(vc), solark(sc);

  // The floor: one bare context per device, the same planned reads, no decoding.
  modbus_t* bare_gx = modbus_new_tcp("127.0.0.1", gx.port());
  modbus_t* bare_sa = modbus_new_tcp("127.0.0.1", sa.port());
  if (modbus_connect(bare_gx) != 0 || modbus_connect(bare_sa) != 0) {
    fmt::print(stderr, "poll_bench: cannot connect to the in-process simulator\n");
    return 1;
  }
  std::vector<std::uint16_t> words(125);
  const auto bare_poll = [&] {
    for (const auto& p : victron.plan()) {
      modbus_set_slave(bare_gx, p.unit);
      modbus_read_registers(bare_gx, p.block.start, p.block.count, words.data());
    }
    for (const auto& p : solark.plan()) {
      modbus_set_slave(bare_sa, p.unit);
      modbus_read_registers(bare_sa, p.block.start, p.block.count, words.data());
    }
  };
  std::size_t readings = 0;
  const auto driver_poll = [&] { readings = victron.poll().readings.size() + solark.poll().readings.size(); };

  for (int i = 0; i < 50; ++i) bare_poll(), driver_poll();  // warm up, connect
  std::vector<double> bare_us, driver_us;
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    bare_poll();
    bare_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    t = Clock::now();
    driver_poll();
    driver_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  const std::size_t requests = victron.plan().size() + solark.plan().size();
  const double floor = median(bare_us), ours = median(driver_us);
  fmt::print("poll_bench: {} rounds, both devices, loopback, in-process simulator\n", rounds);
  fmt::print("  requests per poll: {} (GX {}, Sol-Ark {}), readings per poll: {}\n", requests, victron.plan().size(),
             solark.plan().size(), readings);
  fmt::print("  floor (bare libmodbus reads): {:8.1f} us per poll (median)\n", floor);
  fmt::print("  drivers (read, decode, check): {:8.1f} us per poll (median)\n", ours);
  fmt::print("  ratio: {:.2f}x the floor (goal <= 1.3x): {}\n", ours / floor, ours / floor <= 1.3 ? "met" : "NOT MET");
  modbus_close(bare_gx);
  modbus_free(bare_gx);
  modbus_close(bare_sa);
  modbus_free(bare_sa);
  gx.stop();
  sa.stop();
  return 0;
}

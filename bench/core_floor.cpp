// The floor for shackd's CPU per cycle (issue 44, bench/core_floor.sh): a bare loop making the
// same requests and commands as shackd's cycle and nothing else. Each cycle it reads every
// register block shackd's pollers read (the same plan, from the same config: drivers'
// ModbusDevice::plan, sent with bare libmodbus calls), takes what the broker sends on the topics
// shackd listens to (relays' states, sensors, commands), and publishes three messages of the
// sizes of shackd's per-cycle state, decision and loop at QoS 0 with paho's async client; then it
// sleeps to the next tick. No decoding, no decision, no store, no JSON.
// Usage: core_floor CONFIG STATE_BYTES DECISION_BYTES LOOP_BYTES
//   (runs until SIGTERM; the script reads its CPU from /proc like shackd's)
#include <fmt/format.h>
#include <modbus.h>
#include <mqtt/async_client.h>
#include <signal.h>
#include <time.h>

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/devices/registry.hpp"
#include "drivers/modbus_device.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;

struct Bare {
  modbus_t* ctx = nullptr;
  std::vector<drivers::ModbusDevice::PlannedRead> plan;
  std::vector<drivers::RegisterSpace> spaces;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    fmt::print(stderr, "usage: core_floor CONFIG STATE_BYTES DECISION_BYTES LOOP_BYTES\n");
    return 2;
  }
  ::signal(SIGTERM, [](int) { g_stop = 1; });
  ::signal(SIGINT, [](int) { g_stop = 1; });
  const auto loaded = shackd::load_config(argv[1]);
  if (!loaded.config) {
    fmt::print(stderr, "core_floor: {}: {}\n", argv[1], loaded.errors.empty() ? "?" : loaded.errors.front());
    return 2;
  }
  const shackd::Config& config = *loaded.config;
  std::vector<Bare> devices;
  for (const auto& dc : shackd::devices::modbus_devices(config)) {
    const auto* tcp = std::get_if<drivers::TcpTransport>(&dc.transport);
    if (!tcp) continue;
    drivers::ModbusDevice planner(dc);
    Bare b;
    b.ctx = modbus_new_tcp(tcp->host.c_str(), tcp->port);
    if (!b.ctx || modbus_connect(b.ctx) != 0) {
      fmt::print(stderr, "core_floor: cannot connect to {}:{}\n", tcp->host, tcp->port);
      return 1;
    }
    b.plan = planner.plan();
    for (const auto& p : b.plan) b.spaces.push_back(dc.units.at(p.slot).table->space);
    devices.push_back(std::move(b));
  }
  ::mqtt::async_client client(config.mqtt.uri, "shackd-floor");
  client.start_consuming();
  client.connect(::mqtt::connect_options_builder().clean_session(true).finalize())->wait();
  // The topics shackd's link subscribes to, as filters wide enough to take the same messages.
  for (const char* t : {"stat/#", "tele/#", "shellies/#"}) client.subscribe(t, 1)->wait();
  client.subscribe(config.mqtt.prefix + "/load/+/mode/set", 1)->wait();
  const std::string state(std::stoul(argv[2]), 'x'), decision(std::stoul(argv[3]), 'x'), loop(std::stoul(argv[4]), 'x');
  std::vector<std::uint16_t> words(125);
  auto next = std::chrono::steady_clock::now();
  long cycles = 0;
  while (!g_stop) {
    for (auto& d : devices) {
      for (std::size_t i = 0; i < d.plan.size(); ++i) {
        const auto& p = d.plan[i];
        modbus_set_slave(d.ctx, p.unit);
        if (d.spaces[i] == drivers::RegisterSpace::input) {
          modbus_read_input_registers(d.ctx, p.block.start, p.block.count, words.data());
        } else {
          modbus_read_registers(d.ctx, p.block.start, p.block.count, words.data());
        }
      }
    }
    ::mqtt::const_message_ptr m;
    while (client.try_consume_message(&m)) {
    }
    client.publish(config.mqtt.prefix + "/floor/state", state.data(), state.size(), 0, true);
    client.publish(config.mqtt.prefix + "/floor/decision", decision.data(), decision.size(), 0, false);
    client.publish(config.mqtt.prefix + "/floor/loop", loop.data(), loop.size(), 0, true);
    ++cycles;
    next += config.interval;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - std::chrono::steady_clock::now());
    if (left.count() > 0) {
      timespec ts{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  client.disconnect()->wait();
  for (auto& d : devices) {
    modbus_close(d.ctx);
    modbus_free(d.ctx);
  }
  fmt::print("core_floor: {} cycles\n", cycles);
  return 0;
}

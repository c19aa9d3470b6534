// The floor for shackd's CPU per cycle (issue 44, bench/core_floor.sh): a bare loop making the
// same requests and commands as shackd's cycle and nothing else. Each cycle it reads every
// register block shackd's pollers read (the same plan, from the same config: drivers'
// ModbusDevice::plan, sent with bare libmodbus calls), takes what the broker sends on the topics
// shackd listens to (relays' states, sensors, commands), and publishes three messages of the
// sizes of shackd's per-cycle state, decision and loop at QoS 0 with libmosquitto, the client library
// shackd uses (its own thread reads and writes, as shackd's link); then it
// sleeps to the next tick. No decoding, no decision, no store, no JSON.
// Its ticks fall half an interval after shackd's (the first `<prefix>/loop` shackd sends marks
// them): in step, whichever of the two polled first woke the simulator's and the broker's threads
// for the other, and the ratio moved with the phase the two happened to start at.
// Usage: core_floor CONFIG STATE_BYTES DECISION_BYTES LOOP_BYTES
//   (runs until SIGTERM; the script reads its CPU from /proc like shackd's)
#include <fmt/format.h>
#include <modbus.h>
#include <mosquitto.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/devices/registry.hpp"
#include "drivers/modbus_device.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;
// When shackd's `<prefix>/loop` first came (steady clock, ns since its epoch; 0: not yet).
std::atomic<std::int64_t> g_shackd_cycle_ns{0};

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
  mosquitto_lib_init();
  mosquitto* client = mosquitto_new("shackd-floor", true, nullptr);
  std::string host = config.mqtt.uri.substr(config.mqtt.uri.find("://") + 3);
  int port = 1883;
  if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    port = std::stoi(host.substr(colon + 1));
    host.resize(colon);
  }
  if (!client || mosquitto_connect(client, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(client) != MOSQ_ERR_SUCCESS) {
    fmt::print(stderr, "core_floor: cannot connect to {}\n", config.mqtt.uri);
    return 1;
  }
  // The topics shackd's link subscribes to, as filters wide enough to take the same messages
  // (taken and dropped: no message callback).
  const std::string shackd_loop = config.mqtt.prefix + "/loop";
  mosquitto_user_data_set(client, const_cast<std::string*>(&shackd_loop));
  mosquitto_message_callback_set(client, [](mosquitto*, void* user, const mosquitto_message* m) {
    // Not a retained copy: that came at the subscription, not at a cycle.
    if (g_shackd_cycle_ns.load() == 0 && !m->retain && std::strcmp(m->topic, static_cast<const std::string*>(user)->c_str()) == 0) {
      g_shackd_cycle_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    }
  });
  mosquitto_subscribe(client, nullptr, shackd_loop.c_str(), 0);
  for (const char* t : {"stat/#", "tele/#", "shellies/#"}) mosquitto_subscribe(client, nullptr, t, 1);
  mosquitto_subscribe(client, nullptr, (config.mqtt.prefix + "/load/+/mode/set").c_str(), 1);
  const std::string state(std::stoul(argv[2]), 'x'), decision(std::stoul(argv[3]), 'x'), loop(std::stoul(argv[4]), 'x');
  std::vector<std::uint16_t> words(125);
  // Half an interval after shackd's next cycle (seen within 5 s, or the floor starts now).
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; i < 500 && g_shackd_cycle_ns.load() == 0 && !g_stop; ++i) {
    timespec ts{0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
  if (const auto seen = g_shackd_cycle_ns.load(); seen != 0) {
    next = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(seen)) + config.interval * 3 / 2;
    while (next < std::chrono::steady_clock::now()) next += config.interval;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - std::chrono::steady_clock::now());
    timespec ts{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
    nanosleep(&ts, nullptr);
  } else {
    fmt::print(stderr, "core_floor: no {} from shackd in 5 s: the floor's ticks are not set against shackd's\n",
               shackd_loop);
  }
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
    const auto send = [&](const std::string& topic, const std::string& payload, bool retain) {
      mosquitto_publish(client, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 0, retain);
    };
    send(config.mqtt.prefix + "/floor/state", state, true);
    send(config.mqtt.prefix + "/floor/decision", decision, false);
    send(config.mqtt.prefix + "/floor/loop", loop, true);
    ++cycles;
    next += config.interval;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - std::chrono::steady_clock::now());
    if (left.count() > 0) {
      timespec ts{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  mosquitto_disconnect(client);
  mosquitto_loop_stop(client, false);
  mosquitto_destroy(client);
  mosquitto_lib_cleanup();
  for (auto& d : devices) {
    modbus_close(d.ctx);
    modbus_free(d.ctx);
  }
  fmt::print("core_floor: {} cycles\n", cycles);
  return 0;
}

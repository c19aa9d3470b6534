#pragma once
// The daemon's seams: what a test replaces to drive Daemon::cycle() in process, with a stepped
// clock, scripted devices and a recording publisher (tests/daemon/cycle_test.cpp). Production
// leaves them empty: the system clock, a PollWorker per device, the MQTT broker.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/polled_device.hpp"
#include "daemon/miners/miner_link.hpp"
#include "daemon/system/clock.hpp"
#include "daemon/system/host_boot.hpp"
#include "drivers/kinds.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/link.hpp"
#include "drivers/modbus_device.hpp"

namespace shackd {

struct Seams {
  LoopClock* clock = nullptr;  // null: the system's clocks
  // The device for each configured Modbus device; null: a PollWorker (a thread, a Modbus link).
  std::function<std::unique_ptr<PolledDevice>(drivers::DeviceConfig)> make_device;
  // The link to each configured miner's API; null: a MinerWorker (a thread, TCP to the miner).
  std::function<std::unique_ptr<MinerLink>(const drivers::miners::MinerConfig&)> make_miner;
  // The MQTT transport for a client config; null: libmosquitto to the broker. The daemon runs its
  // whole MQTT side on it: relays, commands, outages, reconnects, what it publishes
  // (tests/support/fake_link.hpp records it).
  std::function<std::unique_ptr<drivers::mqtt::Link>(const drivers::mqtt::ClientConfig&)> make_mqtt;
  // Whether the events' outbox pumps on a thread of its own between cycles; nullopt: when MQTT
  // is the broker's (no make_mqtt).
  std::optional<bool> events_thread;
  // Whether the publisher (daemon/publish/publisher.hpp) renders and sends on a thread of its
  // own; nullopt: when MQTT is the broker's (no make_mqtt). Without one, a cycle's messages are
  // sent before cycle() returns.
  std::optional<bool> publish_thread;
  // Where sd_notify's messages go (READY=1, STATUS=..., WATCHDOG=1); null: $NOTIFY_SOCKET.
  std::function<void(const std::string&)> notify;
  // How long start() waits for the database's stored state before the loop starts in the safe
  // state (daemon_open.cpp); nullopt: two intervals, 1 to 10 s. A test on a loaded machine waits
  // long where it needs the stored state at once, short where it tries the safe state.
  std::optional<std::chrono::milliseconds> store_wait;
  // The host's boot (daemon/system/host_boot.hpp); null: /proc. A test restarts "the host".
  std::function<std::optional<HostBoot>()> host_boot;
  // The device kinds a reload reads the config with (a test adds its own kind).
  drivers::Kinds kinds = drivers::builtin_kinds();
};

}  // namespace shackd

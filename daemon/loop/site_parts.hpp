#pragma once
// The parts a config makes, built aside so that a reload can keep the running ones when one
// throws (issue 57: out of Daemon): the polled devices (a PollWorker each, or the test's) and the
// MQTT side (the link and the relay manager, subscribed but not started).
#include <memory>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/polled_device.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/loop/seams.hpp"

namespace shackd {

std::vector<std::unique_ptr<PolledDevice>> make_workers(const Config& config, const Seams& seams);

// `lane`: the relay lane of the links' owner, which routes to whatever link is in force when it sends.
MqttLinks::Side make_mqtt_side(const Config& config, const Seams& seams, drivers::mqtt::RelayLane lane);

}  // namespace shackd

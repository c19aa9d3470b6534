#pragma once
// A reload (SIGHUP), built aside on the reloader's thread and taken whole by the loop at the top of
// a later cycle (Daemon::finish_reload), or refused whole: the file read and checked, the new
// devices and MQTT side built, the profiles checked and stored (on the recorder's thread). A throw
// at any step leaves the running runtime whole, relays included.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/polled_device.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/loop/site_build.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/site/refusal.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "drivers/kinds.hpp"

namespace shackd {

struct ReloadOutcome {
  // Refused, with the first reason: field `config` (the file's checks; its value: the path),
  // `loop.shadow`, `files` (a file the config names) or `reload` (a later step threw).
  std::optional<Refusal> refusal;
  std::optional<Config> next;
  bool devices_changed = false, mqtt_changed = false, limits_changed = false, metrics_changed = false;
  std::vector<std::unique_ptr<PolledDevice>> workers;
  MqttLinks::Side mqtt;
  std::optional<PreparedSite> ready;
  std::vector<std::string> profile_events;
  std::optional<std::map<std::string, ChargeLimitRow>> charge_rows;  // read when the limits are rebuilt
  std::optional<std::string> metrics_token;  // the first line of metrics.token_file, as read
};

// What the reload is handed: fixed from the start, safe to use from the reloader's thread.
struct ReloadParts {
  std::string config_path;
  bool dry_run = false;  // --dry-run: kept whatever the file says
  bool shadow = false;   // --shadow: kept whatever the file says
  drivers::Kinds kinds;
  std::function<std::vector<std::unique_ptr<PolledDevice>>(const Config&)> make_workers;
  std::function<MqttLinks::Side(const Config&)> make_mqtt;  // null: no MQTT side
  Recorder* recorder = nullptr;  // null: no database to check the profiles against (refused)
};

// A reload's refusal: said as its rule (the config's checks already name the key and the value).
Refusal reload_refusal(std::string field, std::string value, std::string rule);

// `running`: the config in force, to compare the sections with.
ReloadOutcome reload_job(const Config& running, const ReloadParts& parts);

}  // namespace shackd

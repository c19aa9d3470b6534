#pragma once
// What each cycle sends to MQTT, and what it need not send again: the per-cycle state,
// decision and loop messages; a load's state, reason, observed state and mode when they change;
// energy and device health once a minute; Home Assistant discovery after a (re)connect; the
// controller's health when it changes; the uplink's state at its own pace. Sent through a
// function, so a test records it and the publisher (daemon/publish/publisher.hpp) hands it to the
// broker, on its own thread.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/devices/device_alarms.hpp"
#include "daemon/vocab/ac_figures.hpp"
#include "daemon/vocab/cycle_facts.hpp"
#include "daemon/vocab/cycle_view.hpp"
#include "daemon/publish/ha_discovery.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/readings.hpp"
#include "rules/decision.hpp"

namespace shackd {

class CyclePublisher {
 public:
  // True when the link took the message; false (paho's buffer full, the broker gone): what was
  // refused is sent again with the next publish.
  using Send = std::function<bool(const std::string& topic, const std::string& payload, bool retain, int qos)>;
  CyclePublisher(Send send, std::string prefix) : send_(std::move(send)), prefix_(std::move(prefix)) {}
  // One cycle's messages; with `v.everything`, all of them, Home Assistant's discovery too.
  void publish(const CycleFacts& v);
  // After a reload: the next publish sends everything, as if for the first time, and the uplink's
  // state under the topics in force.
  void forget();
  // Sends load `id`'s settings again with the next publish (a refused set: Home Assistant shows
  // the value in force again).
  void forget_settings(const std::string& id) {
    if (const auto it = published_.find(id); it != published_.end()) it->second.sent_settings = false;
  }
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }
  // Each device's health as last published: true when it answers.
  const std::map<std::string, bool>& devices_ok() const { return published_health_; }

 private:
  struct Published {
    std::optional<bool> on, observed;
    std::string mode;
    std::string reason_key;
    double reason_value = 0, reason_limit = 0;  // as last sent (NaN: none)
    std::string settings;  // a miner's thresholds, as last rendered
    bool sent_settings = false;  // ... and the link took it
    std::shared_ptr<const CoreSite> settings_site;  // the site it was rendered from
    std::string power_on;  // how its relay powers up, as last rendered
    bool sent_power_on = false;  // ... and the link took it
    // What power_on was rendered from (power_on_json reads the relay's config and these): the
    // document is rendered again only when one of them changes, not each cycle (issue 57: it was
    // a fifth of the daemon's instructions, nlohmann's dump for every relay every cycle).
    struct PowerOnFrom {
      std::shared_ptr<const drivers::mqtt::RelayConfig> config;  // never null
      std::optional<drivers::mqtt::PowerOnState> state;
      std::string unreadable;
      bool unanswered = false;
      // The same config (shared: one a relay manager, so a reload's compares by value).
      bool operator==(const PowerOnFrom& o) const {
        return (config == o.config || *config == *o.config) && state == o.state && unreadable == o.unreadable &&
               unanswered == o.unanswered;
      }
    };
    std::optional<PowerOnFrom> power_on_from;
  };
  // False when one of the load's once-a-minute messages was refused.
  bool load_messages(const CycleFacts& v, const LoadRef& l, bool everything, bool health_due);
  void host_message(const CycleFacts& v);
  void ac_messages(const CycleFacts& v);
  void uplink_message(const CycleFacts& v);
  Send send_;
  std::string prefix_;
  std::map<std::string, Published> published_;
  std::map<std::string, bool> published_health_;
  std::map<std::string, MqttHealth::Bridge> published_bridges_;
  std::uint64_t published_broker_dropped_ = 0;  // the broker's drops as last published
  // Each device's refused registers and not-available readings, as last published.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> published_map_;
  std::string published_device_alarms_;
  rules::SteadyTime last_health_publish_{};
  bool health_refused_ = false;                      // <prefix>/health is owed
  std::vector<DiscoveryMessage> discovery_pending_;  // Home Assistant's, not yet taken by the link
  std::string host_json_;          // <prefix>/host as last rendered
  std::uint64_t host_version_ = 0;  // from the HostHealth of this version (HostHealth::version)
  bool host_sent_ = false;          // ... and the link took it
  // Each AC source's figures as last taken by the link (<prefix>/ac/<id>), by its id: its `name`
  // cleared (it points into the profiles of that cycle), and when.
  struct PublishedAc {
    AcSourceFigures figures;
    std::optional<bool> running;
    rules::SteadyTime at{};
  };
  std::map<std::string, PublishedAc> published_ac_;
  std::optional<rules::SteadyTime> uplink_state_at_;  // the last <prefix>/site/<id>/state the link took
};

}  // namespace shackd

// Settings over MQTT (mqtt.allow_settings, daemon/config/mqtt_settings.hpp): a miner's start or
// stop voltage set from Home Assistant, checked as the config file's would be, stored with a
// config_history record and an event, and in force from the next cycle.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/store/profile_store.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

void Daemon::offer_settings() {
  settings_offered_.clear();
  if (!config_.mqtt.allow_settings) return;
  std::vector<std::string> kept;
  settings_offered_ = offered_settings(core_.site().profiles, core_.site().loads, config_.profiles, &kept);
  std::vector<std::string> names;
  for (const auto& s : settings_offered_) names.push_back(s.load_name + " " + s.field);
  log::info("mqtt.allow_settings: settable over MQTT and in Home Assistant: {}",
            names.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(names, ", ")));
  // Said once: why a value the owner expects in Home Assistant is not there.
  for (const auto& k : kept) log::info("mqtt.allow_settings: {} is the config file's: not settable over MQTT", k);
}

void Daemon::handle_setting(const std::string& addressed, const std::string& field, const std::string& payload) {
  const std::int64_t wall = clock_.wall_s();
  // By relay id or by name, as a mode command (find_load); anything else is refused below.
  const auto found = find_load(core_.site().loads, addressed);
  // A copy: take_site below replaces the loads this would point into.
  const std::string id = found.size() == 1 ? found.front()->id : addressed;
  SettingResult r = apply_setting(core_.site().profiles, core_.site().loads, config_.profiles, id, field, payload);
  if (r.next && !storage_.open()) r.refused = "no database to keep it in";
  if (r.next && r.refused.empty()) {
    // Stored before it is in force (a restart must not forget it); on the recorder's thread,
    // waited for a bounded time.
    const bool ran = storage_.with_db(
        [&](db::Db& db) {
          try {
            save_profile_change(db, *r.next, core_.site().profiles,
                                "mqtt: " + config_.mqtt.prefix + "/load/" + id + "/" + field + "/set", r.change);
          } catch (const db::Error& e) {
            r.refused = fmt::format("the database did not take it: {}", e.what());
          }
        },
        db_wait(config_.interval));
    if (!ran) r.refused = fmt::format("the database did not take it within {} ms (a slow or busy card)", db_wait(config_.interval).count());
  }
  if (!r.refused.empty()) {
    r.refused = drivers::text::clean_utf8(r.refused, 300);  // it quotes what the client sent
    log::limited("setting refused", log::Level::warn, fmt::format("setting refused: {}", r.refused));
    event("config", id, {rules::ReasonCode::none}, "setting refused: " + r.refused, wall);
    publisher_.forget_settings(id);  // Home Assistant shows the value in force again
    return;
  }
  CoreSite site = core_.site();  // a setting is rare: the site copied, its profiles replaced
  site.profiles = std::move(*r.next);
  core_.take_site(std::move(site), core_.state());
  log::info("profiles: {} (set over MQTT)", r.change);
  event("config", id, {rules::ReasonCode::none}, "profiles: " + r.change + " (set over MQTT)", wall);
}

}  // namespace shackd

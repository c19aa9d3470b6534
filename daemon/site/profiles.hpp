#pragma once
// Profiles as the site owner keeps them: the rules' structs plus what only people and the
// daemon need (model, relay and sensor ids, timezone, ...), one vocabulary for the database
// columns, the YAML keys and the messages.
#include <optional>
#include <string>
#include <vector>

#include "rules/profile.hpp"

namespace shackd {

struct SiteExtras {
  std::string timezone = "UTC";
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::string display = "soc";  // soc | voltage
};

struct MinerExtras {
  std::string model;
  std::optional<double> hashrate_th;
  std::string relay_id;
  // The AC source that feeds it, by its id under ac_sources: ("": the first), and its phase (1 = L1).
  std::string ac_source;
  int ac_phase = 1;
};

struct ZoneExtras {
  std::string zone_type = "equipment";  // equipment | battery | living | outdoor
  std::string sensor_id;
  std::optional<std::string> exhaust_fan_relay;  // none: the zone has no fan
  std::optional<std::string> heater_relay;       // none: the zone has no heater
  std::string heater_ac_source;  // as a miner's ac_source, for its heater
  int heater_ac_phase = 1;
};

struct StoredProfiles {
  rules::Profiles rules;
  SiteExtras site;
  std::vector<MinerExtras> miners;  // parallel to rules.miners
  std::vector<ZoneExtras> zones;    // parallel to rules.zones

  // has_fan / has_heater follow the relays.
  void sync_relays();
};

// Everything rules::validate() checks, plus the fields only the store knows.
std::vector<std::string> validate_stored(const StoredProfiles& p);

// Each load's voltage limits as the rules use them, after its operating mode and margins:
// "miner 'Primary S21+' (aggressive): starts at 50.00 V, stops below 47.00 V".
std::vector<std::string> effective_threshold_lines(const StoredProfiles& p);

// Text forms shared by the database and YAML.
std::string schedule_text(const std::vector<rules::TimeWindow>& windows);  // "18:00-10:00,22:00-23:00"
// nullopt and `error` set when the text is not a list of HH:MM-HH:MM windows.
std::optional<std::vector<rules::TimeWindow>> parse_schedule(const std::string& text, std::string& error);
const char* mode_name(rules::OperatingMode m);
std::optional<rules::OperatingMode> parse_mode(const std::string& s);
const char* stale_name(rules::StalePolicy p);
std::optional<rules::StalePolicy> parse_stale(const std::string& s);
const char* heat_source_name(rules::HeatSource h);
std::optional<rules::HeatSource> parse_heat_source(const std::string& s);

}  // namespace shackd

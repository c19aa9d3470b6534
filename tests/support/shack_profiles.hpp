#pragma once
// The Solar Shack's stored profiles (docs/solar-shack.md): the rules' defaults, each rule's load with
// its relay, parallel to the rules as the store keeps them (daemon/site/profiles.hpp).
#include "daemon/site/profiles.hpp"
#include "rules/profile.hpp"

namespace test {

inline shackd::StoredProfiles shack_profiles() {
  shackd::StoredProfiles p;
  p.rules = rules::solar_shack_defaults();
  p.miners = {{"Antminer S21+ 235 TH", 235.0, "primary_s21", "", 1}, {"Antminer S19 95 TH", 95.0, "dump_s19_1", "", 1}};
  p.zones = {{"equipment", "heat_room_temp", "heat_room_fan", "heat_room_heater", "", 1},
             {"equipment", "main_room_temp", "main_room_fan", "main_room_heater", "", 1}};
  return p;
}

}  // namespace test

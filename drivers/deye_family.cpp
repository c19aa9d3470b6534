#include "drivers/deye_family.hpp"

#include <array>

namespace drivers::deye {

namespace {

// kellerza/sunsynk definitions/__init__.py DEVICE_TYPE: 2 inverter, 3 single-phase hybrid,
// 4 microinverter, 5 low-voltage three-phase hybrid, 6 high-voltage three-phase hybrid; the
// firmware variants 0x0601/0x0602 (high-voltage three-phase) and 0x0200 (the 16 kW single-phase
// hybrid, whose grid power some firmware reports in 10 W: §2.6) as kellerza/sunsynk's users
// report them. A value not listed is read as configured, with a note in the device's health.
constexpr std::string_view kSingle = "a Deye/Sunsynk/Sol-Ark single-phase hybrid";
constexpr std::string_view kSingle16 = "a Deye/Sunsynk 16 kW single-phase hybrid";
constexpr std::string_view kThreeLv = "a Deye/Sunsynk low-voltage three-phase hybrid";
constexpr std::string_view kThreeHv = "a Deye high-voltage three-phase hybrid";
constexpr std::string_view kNoBattery = "shackd reads hybrids, which have the battery it decides on";
constexpr std::string_view kHv = "its high-voltage battery map is not one shackd has";

// Each with the kind that reads it: one list for both maps, each map fitting its own kind's.
constexpr std::array kFamily{
    FamilyValue{0x0002, "a Deye string inverter", {}, kNoBattery},
    FamilyValue{0x0003, kSingle, "solark"},
    FamilyValue{0x0004, "a Deye microinverter", {}, kNoBattery},
    FamilyValue{0x0005, kThreeLv, "deye_3p"},
    FamilyValue{0x0006, kThreeHv, {}, kHv},
    FamilyValue{0x0200, kSingle16, "solark"},
    FamilyValue{0x0601, kThreeHv, {}, kHv},
    FamilyValue{0x0602, kThreeHv, {}, kHv},
};

const Identity kSinglePhaseIdentity{0, kFamily, "solark"};
const Identity kThreePhaseLvIdentity{0, kFamily, "deye_3p"};

}  // namespace

std::span<const FamilyValue> family() { return kFamily; }
const Identity& single_phase_identity() { return kSinglePhaseIdentity; }
const Identity& three_phase_lv_identity() { return kThreePhaseLvIdentity; }

}  // namespace drivers::deye

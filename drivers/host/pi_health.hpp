#pragma once
// The controller's own health as Linux exposes it on a Raspberry Pi (docs/protocols.md §9): the
// firmware's under-voltage and throttling flags, the SoC's temperature, an eMMC's own wear
// estimate, and what this process has written to storage. Every path is under a root given by
// the caller ("/" on the Pi; a fake tree in the tests). What a machine does not have (a PC, a
// container, an SD card, which reports no wear) is simply missing, never guessed or zero.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drivers::host {

// Bounds (issue 56): a root whose directories hold thousands of entries (20,000 under sys/block
// made every cycle 368 ms while the reader ran on the loop's thread), or whose files are large, is
// read only this far, and says so. A Pi has one SD card or one eMMC (a Compute Module), each file
// read here is a line or a few.
inline constexpr std::size_t kMaxDirEntries = 256;  // looked at in each directory searched
inline constexpr std::size_t kMaxEmmc = 4;          // eMMC devices read
inline constexpr std::size_t kMaxFileBytes = 512;   // read of each file (/proc/self/io is ~200)

// Where this machine says each thing, found once under the root (empty: it does not).
struct HostSources {
  std::string throttled;    // the firmware's get_throttled word (raspberrypi-firmware driver)
  std::string volt_alarm;   // hwmon "rpi_volt" in0_lcrit_alarm (raspberrypi-hwmon)
  std::string soc_temp;     // the SoC's thermal zone (type cpu-thermal): millidegrees Celsius
  std::vector<std::string> emmc;  // each eMMC's sysfs device directory with life_time and pre_eol_info
  std::string proc_io;      // /proc/self/io
  std::vector<std::string> unread;  // what discovery left, past its bounds ("sys/block: more than 256 entries ...")
  bool any() const { return !throttled.empty() || !volt_alarm.empty() || !soc_temp.empty() || !emmc.empty(); }
};
HostSources discover_host(const std::string& root);

struct HostReading {
  std::optional<bool> under_voltage;      // now, or within the firmware's last poll
  std::optional<bool> throttled;          // throttled, its ARM clock capped or its soft temperature limit active
  std::optional<std::uint32_t> throttled_word;  // get_throttled as read
  std::optional<double> soc_temp_c;
  // The worse of an eMMC's two life-time estimates, as the upper end of its 10 % step (JEDEC
  // eMMC 5.0 EXT_CSD 268/269: 0x01 0-10 % used ... 0x0A 90-100 %, 0x0B past its life): 10..110.
  std::optional<int> emmc_life_used_pct;
  std::optional<int> emmc_pre_eol;        // EXT_CSD 267: 1 normal, 2 warning (80 % of spare blocks used), 3 urgent
  std::optional<std::uint64_t> written_bytes;  // /proc/self/io write_bytes: what reached the block layer
  // A source that is there but unreadable or malformed, or what discovery left: `source` names it
  // (a path: said once while it lasts, whatever its bytes say), `text` says what, printable.
  struct Problem {
    std::string source, text;
    bool operator==(const Problem&) const = default;
  };
  std::vector<Problem> problems;
};
HostReading read_host(const HostSources& s);

// The parsers, each for one file's text; nullopt for anything else.
std::optional<std::uint32_t> parse_throttled(std::string_view text);      // "50005\n" (hex, no 0x)
std::optional<bool> parse_flag(std::string_view text);                    // "0\n" or "1\n"
std::optional<double> parse_millidegrees(std::string_view text);          // "48312\n"
std::optional<int> parse_life_time(std::string_view text);                // "0x01 0x02\n" -> 20
std::optional<int> parse_pre_eol(std::string_view text);                  // "0x01\n" or "01\n"
std::optional<std::uint64_t> parse_write_bytes(std::string_view proc_io); // the write_bytes line

}  // namespace drivers::host

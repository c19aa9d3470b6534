#pragma once
// The host's boot: its id (the kernel's boot_id, new at every boot) and how long it has been up
// (CLOCK_BOOTTIME, which counts suspended time too). A start after a power cut is on a new boot;
// a restart of shackd alone is on the same one (issue 56).
#include <chrono>
#include <optional>
#include <string>

namespace shackd {

struct HostBoot {
  std::string boot_id;
  std::chrono::seconds uptime{0};
};

// nullopt when /proc cannot say (not Linux, a restricted container).
std::optional<HostBoot> read_host_boot();

}  // namespace shackd

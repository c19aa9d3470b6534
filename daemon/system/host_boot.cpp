#include "daemon/system/host_boot.hpp"

#include <time.h>

#include <fstream>

namespace shackd {

std::optional<HostBoot> read_host_boot() {
  HostBoot b;
  // proc(5): /proc/sys/kernel/random/boot_id, "a random string that is generated at each boot".
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  if (!in || !std::getline(in, b.boot_id) || b.boot_id.empty() || b.boot_id.size() > 64) return std::nullopt;
  timespec ts{};
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return std::nullopt;
  b.uptime = std::chrono::seconds(ts.tv_sec);
  return b;
}

}  // namespace shackd

#pragma once
// A Raspberry Pi's sysfs and proc as the kernel lays them out (drivers/host/pi_health.hpp cites
// each driver), in a temporary directory: a test writes what the firmware, the thermal zone, the
// eMMC and /proc would say, and the reader reads it as it would on a Pi. Real sysfs puts the
// firmware device and the hwmon and thermal entries behind symlinks; plain directories read the same.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace test {

class FakePi {
 public:
  // `pi`: the Pi's files (firmware flags, hwmon, the SoC's thermal zone); otherwise a PC's tree
  // (an x86 thermal zone, an NVMe disk, /proc) in which none of them is.
  explicit FakePi(bool pi = true, bool emmc = false) {
    char tmpl[] = "/tmp/shackd-fakepi-XXXXXX";
    root = mkdtemp(tmpl);
    if (pi) {
      throttled(0);
      write("sys/class/hwmon/hwmon0/name", "cpu_thermal\n");
      write("sys/class/hwmon/hwmon1/name", "rpi_volt\n");
      volt_alarm(false);
      write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
      temp_c(48.3);
    } else {
      write("sys/class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
      write("sys/class/thermal/thermal_zone0/temp", "55000\n");
      write("sys/block/nvme0n1/device/model", "a disk\n");
    }
    if (emmc) life_time(0x01, 0x02), pre_eol(0x01);
    written(0);
  }
  ~FakePi() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  FakePi(const FakePi&) = delete;
  FakePi& operator=(const FakePi&) = delete;

  // get_throttled as raspberrypi-firmware prints it: "%x\n".
  void throttled(std::uint32_t word) {
    char text[16];
    std::snprintf(text, sizeof text, "%x\n", word);
    write("sys/bus/platform/drivers/raspberrypi-firmware/soc:firmware/get_throttled", text);
  }
  void volt_alarm(bool on) { write("sys/class/hwmon/hwmon1/in0_lcrit_alarm", on ? "1\n" : "0\n"); }
  void temp_c(double c) { write("sys/class/thermal/thermal_zone0/temp", std::to_string(static_cast<long>(c * 1000)) + "\n"); }
  void life_time(int a, int b) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%02x 0x%02x\n", a, b);
    write("sys/block/mmcblk0/device/life_time", text);
  }
  void pre_eol(int v) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x\n", v);
    write("sys/block/mmcblk0/device/pre_eol_info", text);
  }
  // /proc/self/io as proc.rst shows it.
  void written(std::uint64_t bytes) {
    write("proc/self/io", "rchar: 1000\nwchar: 99999999\nsyscr: 10\nsyscw: 10\nread_bytes: 0\nwrite_bytes: " +
                              std::to_string(bytes) + "\ncancelled_write_bytes: 0\n");
  }
  void write(const std::string& rel, const std::string& text) {
    const auto p = root / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << text;
  }
  void remove(const std::string& rel) {
    std::error_code ec;
    std::filesystem::remove(root / rel, ec);
  }

  std::filesystem::path root;
};

}  // namespace test

#include "drivers/host/pi_health.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "drivers/text/utf8.hpp"

namespace drivers::host {

namespace {

namespace fs = std::filesystem;

// The first bytes of a small sysfs or proc file (each is a line or a few); nullopt when it
// cannot be read. Never blocks on a FIFO or grows with a hostile file: kMaxFileBytes at most,
// O_NONBLOCK.
std::optional<std::string> read_small(const std::string& path, std::string* why = nullptr) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = std::strerror(errno);
    return std::nullopt;
  }
  std::string out(kMaxFileBytes, '\0');
  const ssize_t n = ::read(fd, out.data(), out.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) {
    if (why) *why = std::strerror(err);
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

template <typename T>
std::optional<T> number(std::string_view s, int base = 10) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "0x0A" or "0A" or "10"-as-hex: one byte as the mmc driver prints it ("0x%02x"; some kernels
// printed "%02x").
std::optional<int> hex_byte(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  const auto v = number<unsigned>(s, 16);
  if (!v || *v > 0xFF) return std::nullopt;
  return static_cast<int>(*v);
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// The entries of `dir` whose names start with `prefix`, sorted (hwmon0 before hwmon1), of the
// first kMaxDirEntries it holds; past them, `unread` says so (`root`: what the words leave out).
std::vector<fs::path> entries(const fs::path& dir, std::string_view prefix, std::vector<std::string>& unread,
                              const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  std::size_t seen = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxDirEntries) {
      unread.push_back(fmt::format("{}: more than {} entries; those after them were not looked at",
                                   text::clean_printable(dir.lexically_relative(root).string(), 120), kMaxDirEntries));
      break;
    }
    if (it->path().filename().string().starts_with(prefix)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<std::uint32_t> parse_throttled(std::string_view text) {
  // raspberrypi-firmware's get_throttled_show: sprintf("%x\n").
  text = trim(text);
  if (text.starts_with("0x")) text.remove_prefix(2);
  return number<std::uint32_t>(text, 16);
}

std::optional<bool> parse_flag(std::string_view text) {
  text = trim(text);
  if (text == "0") return false;
  if (text == "1") return true;
  return std::nullopt;
}

std::optional<double> parse_millidegrees(std::string_view text) {
  const auto v = number<long long>(trim(text));
  // The thermal core's millidegrees Celsius; anything past -100..250 °C is not a SoC's reading.
  if (!v || *v < -100000 || *v > 250000) return std::nullopt;
  return static_cast<double>(*v) / 1000.0;
}

std::optional<int> parse_life_time(std::string_view text) {
  // "0x%02x 0x%02x\n": DEVICE_LIFE_TIME_EST_TYP_A and _B. 0x00 is "not defined" (a device that
  // does not estimate); 0x01..0x0A the used share in 10 % steps; 0x0B past its estimated life.
  text = trim(text);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto a = hex_byte(text.substr(0, space)), b = hex_byte(trim(text.substr(space + 1)));
  if (!a || !b || *a > 0x0B || *b > 0x0B) return std::nullopt;
  const int worst = std::max(*a, *b);
  if (worst == 0) return std::nullopt;
  return worst * 10;
}

std::optional<int> parse_pre_eol(std::string_view text) {
  // EXT_CSD PRE_EOL_INFO: 0x00 not defined, 0x01 normal, 0x02 warning, 0x03 urgent.
  const auto v = hex_byte(trim(text));
  if (!v || *v < 1 || *v > 3) return std::nullopt;
  return *v;
}

std::optional<std::uint64_t> parse_write_bytes(std::string_view proc_io) {
  // Documentation/filesystems/proc.rst, /proc/<pid>/io: "write_bytes: N", the bytes this process
  // caused to be sent to the storage layer (not wchar, which counts sockets too).
  for (std::size_t at = 0; at < proc_io.size();) {
    const auto nl = proc_io.find('\n', at);
    const std::string_view line = proc_io.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    if (line.starts_with("write_bytes:")) return number<std::uint64_t>(trim(line.substr(12)));
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return std::nullopt;
}

HostSources discover_host(const std::string& root) {
  HostSources s;
  const fs::path r(root.empty() ? "/" : root);
  // raspberrypi-firmware registers get_throttled on its own platform device, next to the hwmon
  // device it makes (drivers/firmware/raspberrypi.c, rpi_register_hwmon_driver): found through
  // the driver's directory, whatever the device's name on this model.
  for (const auto& dev : entries(r / "sys/bus/platform/drivers/raspberrypi-firmware", "", s.unread, r)) {
    if (present(dev / "get_throttled")) {
      s.throttled = (dev / "get_throttled").string();
      break;
    }
  }
  // raspberrypi-hwmon: name "rpi_volt", in0_lcrit_alarm the firmware's sticky under-voltage bit
  // (drivers/hwmon/raspberrypi-hwmon.c).
  for (const auto& h : entries(r / "sys/class/hwmon", "hwmon", s.unread, r)) {
    const auto name = read_small((h / "name").string());
    if (name && trim(*name) == "rpi_volt" && present(h / "in0_lcrit_alarm")) {
      s.volt_alarm = (h / "in0_lcrit_alarm").string();
      break;
    }
  }
  // The SoC's zone: "cpu-thermal", its node's name in the Raspberry Pi device tree
  // (raspberrypi/linux arch/arm/boot/dts/bcm283x.dtsi). A PC's zones (x86_pkg_temp, acpitz) are
  // not the Pi's and are left.
  for (const auto& z : entries(r / "sys/class/thermal", "thermal_zone", s.unread, r)) {
    const auto type = read_small((z / "type").string());
    if (type && (trim(*type) == "cpu-thermal" || trim(*type) == "cpu_thermal") && present(z / "temp")) {
      s.soc_temp = (z / "temp").string();
      break;
    }
  }
  // An eMMC's own wear estimate (drivers/mmc/core/mmc.c: life_time, pre_eol_info); an SD card
  // has neither (drivers/mmc/core/sd.c), so on a Pi with an SD card there is none.
  for (const auto& b : entries(r / "sys/block", "mmcblk", s.unread, r)) {
    const auto dev = b / "device";
    if (!present(dev / "life_time") && !present(dev / "pre_eol_info")) continue;
    if (s.emmc.size() == kMaxEmmc) {
      s.unread.push_back(fmt::format("sys/block: more than {} eMMC devices; those after them are not read", kMaxEmmc));
      break;
    }
    s.emmc.push_back(dev.string());
  }
  if (present(r / "proc/self/io")) s.proc_io = (r / "proc/self/io").string();
  return s;
}

HostReading read_host(const HostSources& s) {
  HostReading h;
  // Paths come from directory names and values from files: both printable in what is said (a
  // file's raw bytes went into the log before: a terminal's escape sequences, a NUL, a forged line).
  const auto said = [](const std::string& path) { return text::clean_printable(path, 200); };
  const auto read = [&](const std::string& path, const char* what) -> std::optional<std::string> {
    std::string why;
    auto text = read_small(path, &why);
    if (!text) h.problems.push_back({path, std::string(what) + " " + said(path) + ": " + why});
    return text;
  };
  const auto malformed = [&](const char* what, const std::string& path, const std::string& text) {
    h.problems.push_back({path, std::string(what) + " " + said(path) + ": not a value: '" +
                                    text::clean_printable(trim(text), 40) + "'"});
  };
  for (const auto& u : s.unread) h.problems.push_back({u, u});
  if (!s.throttled.empty()) {
    if (const auto t = read(s.throttled, "get_throttled")) {
      if (const auto w = parse_throttled(*t)) {
        // Raspberry Pi documentation, vcgencmd get_throttled: bits 0-3 now (under-voltage, ARM
        // frequency capped, throttled, soft temperature limit), 16-19 the same "has occurred";
        // the kernel's hwmon poll clears those every 2 s, so either means "lately".
        h.throttled_word = *w;
        h.under_voltage = (*w & 0x10001u) != 0;
        h.throttled = (*w & 0xE000Eu) != 0;
      } else {
        malformed("get_throttled", s.throttled, *t);
      }
    }
  }
  if (!s.volt_alarm.empty()) {
    if (const auto t = read(s.volt_alarm, "in0_lcrit_alarm")) {
      if (const auto f = parse_flag(*t)) h.under_voltage = h.under_voltage.value_or(false) || *f;
      else malformed("in0_lcrit_alarm", s.volt_alarm, *t);
    }
  }
  if (!s.soc_temp.empty()) {
    if (const auto t = read(s.soc_temp, "thermal zone")) {
      if (const auto c = parse_millidegrees(*t)) h.soc_temp_c = *c;
      else malformed("thermal zone", s.soc_temp, *t);
    }
  }
  for (const auto& dev : s.emmc) {
    if (const auto t = read_small(dev + "/life_time")) {
      if (const auto pct = parse_life_time(*t)) h.emmc_life_used_pct = std::max(h.emmc_life_used_pct.value_or(0), *pct);
    }
    if (const auto t = read_small(dev + "/pre_eol_info")) {
      if (const auto v = parse_pre_eol(*t)) h.emmc_pre_eol = std::max(h.emmc_pre_eol.value_or(0), *v);
    }
  }
  if (!s.proc_io.empty()) {
    if (const auto t = read(s.proc_io, "io")) {
      if (const auto b = parse_write_bytes(*t)) h.written_bytes = *b;
      else malformed("io", s.proc_io, *t);
    }
  }
  return h;
}

}  // namespace drivers::host

// Every register decodes from recorded words, including the sign and word-order cases.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/host/pi_health.hpp"
#include "drivers/registers.hpp"
#include "drivers/solark.hpp"
#include "drivers/text/utf8.hpp"
#include "drivers/victron_gx.hpp"
#include "tests/support/fake_pi.hpp"
#include "tests/support/regs_fixture.hpp"

namespace {

const drivers::Table* table_for(const std::string& service) {
  if (service == "system") return &drivers::victron::system_table();
  if (service == "battery") return &drivers::victron::battery_table();
  if (service == "solarcharger") return &drivers::victron::solarcharger_table();
  if (service == "temperature") return &drivers::victron::temperature_table();
  if (service == "vebus") return &drivers::victron::vebus_table();
  if (service == "solark") return &drivers::solark::table();
  return nullptr;
}

std::set<std::pair<std::string, std::string>> check_fixture(const std::string& path) {
  return test::check_regs_fixture(path, table_for);
}

}  // namespace

TEST_CASE("every register decodes its recorded fixture") {
  auto covered = check_fixture(SHACKD_FIXTURES "/victron.regs");
  const auto solark = check_fixture(SHACKD_FIXTURES "/solark.regs");
  covered.insert(solark.begin(), solark.end());
  for (const char* service : {"system", "battery", "solarcharger", "temperature", "solark"}) {
    for (const auto& r : table_for(service)->registers) {
      CAPTURE(std::string(r.field));
      CHECK_MESSAGE(covered.count({service, std::string(r.field)}), "no fixture for " << service << "." << r.field);
    }
  }
}

TEST_CASE("word order and sign") {
  using drivers::RegType;
  using drivers::raw_value;
  const std::uint16_t hi_lo[] = {0x0001, 0x0002};
  CHECK(raw_value(RegType::u32_high_first, hi_lo) == 0x00010002);
  CHECK(raw_value(RegType::u32_low_first, hi_lo) == 0x00020001);
  const std::uint16_t neg[] = {0xFFFF, 0xFFFE};
  CHECK(raw_value(RegType::s32_high_first, neg) == -2);
  CHECK(raw_value(RegType::s32_low_first, neg) == -65537);
  CHECK(raw_value(RegType::u32_high_first, neg) == 0xFFFFFFFEu);
  const std::uint16_t one[] = {0x8000};
  CHECK(raw_value(RegType::s16, one) == -32768);
  CHECK(raw_value(RegType::u16, one) == 32768);
}

TEST_CASE("implausible values are refused with a reason") {
  const auto& battery = drivers::victron::battery_table().registers;
  const drivers::Register& v = battery[0];
  REQUIRE(v.field == "battery_v");
  const std::uint16_t ffff[] = {0xFFFF};
  const auto why = drivers::check_plausible(v, drivers::decode(v, ffff));
  REQUIRE(why);
  CHECK(*why == "battery_v 655.35 outside its plausible range 20..70 (register 259)");
  const std::uint16_t zero[] = {0};  // the GX's "not available" (docs/registers.md §1.3)
  CHECK(drivers::is_not_available(v, zero));
  const std::uint16_t minus_one[] = {0xFFFF};
  for (const auto& r : battery) {
    if (r.field != "battery_temp_c") continue;
    CHECK(drivers::is_not_available(r, zero));  // a monitor without a sensor: 262 = 0
    CHECK_FALSE(drivers::is_not_available(r, minus_one));  // -0.1 degC is a measurement
  }
  const auto& solark = drivers::solark::table().registers;
  for (const auto& r : solark) {
    if (r.field != "battery_temp_c") continue;
    const std::uint16_t hot[] = {2500};  // 150 degC: a broken sensor, not a fire
    CHECK(drivers::check_plausible(r, drivers::decode(r, hot)));
  }
}

TEST_CASE("reads are planned as few contiguous blocks as allowed") {
  using drivers::plan_blocks;
  const auto& sys = drivers::victron::system_table();
  const auto blocks = plan_blocks(sys.registers, sys.max_gap, sys.max_block);
  REQUIRE(blocks.size() == 1);  // 808..913 in one read, inside the GX's contiguous 800-919
  CHECK(blocks[0].start == 808);
  CHECK(blocks[0].count == 106);

  const auto& bat = drivers::victron::battery_table();
  const auto b = plan_blocks(bat.registers, bat.max_gap, bat.max_block);
  REQUIRE(b.size() == 2);
  CHECK(b[0].start == 259);
  CHECK(b[0].count == 68);  // 259..326 (a BMS's limits, cell temperatures and alarms): one read
  CHECK(b[1].start == 1297);  // a BMS's allow-to-charge, far from the rest
  CHECK(b[1].count == 1);

  const auto& sc = drivers::victron::solarcharger_table();
  const auto c = plan_blocks(sc.registers, sc.max_gap, sc.max_block);
  REQUIRE(c.size() == 1);
  CHECK(c[0].start == 775);
  CHECK(c[0].count == 19);  // 775..793: the u32 at 792 takes two

  const auto& sa = drivers::solark::table();
  const auto s = plan_blocks(sa.registers, sa.max_gap, sa.max_block);
  REQUIRE(s.size() == 1);  // the Sol-Ark serves every address between: one read, the fewest
  CHECK(s[0].start == 79);
  CHECK(s[0].count == 113);  // 79..191
  CHECK(s[0].count <= 125);  // Modbus's limit for one read

  // A gateway that takes at most 8 registers per read.
  const auto small = plan_blocks(sa.registers, sa.max_gap, 8);
  for (const auto& blk : small) CHECK(blk.count <= 8);
  int covered = 0;
  for (const auto& r : sa.registers) {
    for (const auto& blk : small) covered += r.address >= blk.start && r.address < blk.start + blk.count;
  }
  CHECK(covered == static_cast<int>(sa.registers.size()));
}

// The controller's own health (drivers/host/pi_health.hpp) against a fake sysfs and proc laid out
// as the Raspberry Pi kernel lays them out (tests/support/fake_pi.hpp).
TEST_CASE("the Pi's health files parse as their drivers print them, and nothing else") {
  using namespace drivers::host;
  CHECK(parse_throttled("50005\n") == 0x50005u);  // get_throttled_show: "%x\n"
  CHECK(parse_throttled("0\n") == 0u);
  CHECK_FALSE(parse_throttled("zz\n"));
  CHECK_FALSE(parse_throttled(""));
  CHECK(parse_flag("1\n") == true);
  CHECK_FALSE(parse_flag("2\n"));
  CHECK(parse_millidegrees("48312\n") == doctest::Approx(48.312));
  CHECK(parse_millidegrees("-5000\n") == doctest::Approx(-5.0));
  CHECK_FALSE(parse_millidegrees("999999999\n"));
  CHECK(parse_life_time("0x01 0x02\n") == 20);  // the worse of A and B, upper end of its step
  CHECK(parse_life_time("0x0b 0x01\n") == 110);  // past its estimated life
  CHECK_FALSE(parse_life_time("0x00 0x00\n"));  // not defined: the device does not estimate
  CHECK_FALSE(parse_life_time("0x0c 0x01\n"));
  CHECK(parse_pre_eol("0x02\n") == 2);
  CHECK(parse_pre_eol("03\n") == 3);
  CHECK_FALSE(parse_pre_eol("0x00\n"));
  CHECK(parse_write_bytes("rchar: 1\nwchar: 2\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n") == 4096u);
  CHECK_FALSE(parse_write_bytes("wchar: 2\n"));  // wchar counts sockets too: never taken
}

TEST_CASE("the Pi's health read from a fake sysfs root: flags, temperature, eMMC wear and this process's writes") {
  using namespace drivers::host;
  test::FakePi pi(true, true);
  const auto s = discover_host(pi.root.string());
  CHECK(s.any());
  CHECK_FALSE(s.throttled.empty());
  CHECK_FALSE(s.volt_alarm.empty());
  CHECK_FALSE(s.soc_temp.empty());
  CHECK(s.emmc.size() == 1);
  auto h = read_host(s);
  CHECK(h.problems.empty());
  CHECK(h.under_voltage == false);
  CHECK(h.throttled == false);
  CHECK(h.soc_temp_c == doctest::Approx(48.3));
  CHECK(h.emmc_life_used_pct == 20);
  CHECK(h.emmc_pre_eol == 1);
  CHECK(h.written_bytes == 0u);
  // Under-voltage now (bit 0) and throttled (bit 2), as vcgencmd get_throttled's table names them.
  pi.throttled(0x50005);
  pi.temp_c(82.5);
  pi.written(123456);
  h = read_host(s);
  CHECK(h.under_voltage == true);
  CHECK(h.throttled == true);
  CHECK(h.throttled_word == 0x50005u);
  CHECK(h.soc_temp_c == doctest::Approx(82.5));
  CHECK(h.written_bytes == 123456u);
  // The hwmon alarm alone says under-voltage too (the kernel's non-deprecated interface).
  pi.throttled(0);
  pi.volt_alarm(true);
  CHECK(read_host(s).under_voltage == true);
  // A soft temperature limit "has occurred" (bit 19): throttled, not under-voltage.
  pi.volt_alarm(false);
  pi.throttled(0x80000);
  h = read_host(s);
  CHECK(h.under_voltage == false);
  CHECK(h.throttled == true);
  // A file that goes away or says nonsense: missing, and named; never a zero.
  pi.remove("sys/class/thermal/thermal_zone0/temp");
  pi.write("sys/bus/platform/drivers/raspberrypi-firmware/soc:firmware/get_throttled", "garbage\n");
  h = read_host(s);
  CHECK_FALSE(h.soc_temp_c);
  CHECK_FALSE(h.throttled);
  CHECK(h.problems.size() == 2);
}

// Issue 56: a hostile or broken root. Discovery looks at no more than kMaxDirEntries entries of a
// directory and reads no more than kMaxEmmc eMMC devices, saying what it left; a file's bytes are
// read only so far, and what it said is printable in the problem (its escape sequences, NUL and
// line breaks shown as codes, never written to the log as they are), and cut.
TEST_CASE("the Pi's health reader is bounded: entries, devices and bytes; what a file says is printable") {
  using namespace drivers::host;
  test::FakePi pi(true, false);
  for (int i = 0; i < 300; ++i) pi.write("sys/block/mmcblk" + std::to_string(i) + "/device/life_time", "0x01 0x01\n");
  const auto s = discover_host(pi.root.string());
  CHECK(s.emmc.size() == kMaxEmmc);
  REQUIRE(s.unread.size() == 2);
  CHECK(s.unread[0] == "sys/block: more than 256 entries; those after them were not looked at");
  CHECK(s.unread[1] == "sys/block: more than 4 eMMC devices; those after them are not read");
  std::string garbage = "\x1b[2J\x1b]0;owned\x07\r\nwarn: forged";
  garbage += '\0';
  garbage += "\xff\xfe" + std::string(100000, 'A');
  pi.write("sys/bus/platform/drivers/raspberrypi-firmware/soc:firmware/get_throttled", garbage);
  const auto h = read_host(s);
  CHECK_FALSE(h.throttled);
  REQUIRE(h.problems.size() == 3);  // the two bounds, and the file
  const auto& p = h.problems.back();
  CHECK(p.source.ends_with("get_throttled"));
  INFO(p.text);
  CHECK(p.text.find('\x1b') == std::string::npos);
  CHECK(p.text.find('\n') == std::string::npos);
  CHECK(p.text.find('\r') == std::string::npos);
  CHECK(p.text.find('\0') == std::string::npos);
  CHECK(drivers::text::valid_utf8(p.text));
  CHECK(p.text.find("not a value: '\\x1b[2J\\x1b]0;owned\\x07\\x0d") != std::string::npos);
  CHECK(p.text.size() < 400);
  CHECK(drivers::text::clean_printable("a\u0085b\tc") == "a\\x85b\\x09c");  // C1 and C0 controls
}

TEST_CASE("on a PC (or a container) the Pi's health is simply absent") {
  using namespace drivers::host;
  test::FakePi pc(false);
  const auto s = discover_host(pc.root.string());
  CHECK_FALSE(s.any());  // an x86 thermal zone is not the Pi's SoC; an NVMe reports no eMMC wear
  CHECK(s.soc_temp.empty());
  CHECK(s.emmc.empty());
  const auto h = read_host(s);
  CHECK_FALSE(h.under_voltage);
  CHECK_FALSE(h.soc_temp_c);
  CHECK_FALSE(h.emmc_life_used_pct);
  CHECK(h.written_bytes == 0u);  // this process's own writes are there on any Linux
  CHECK(h.problems.empty());
  // A root with nothing at all (a container without /sys): nothing, and no error.
  const auto none = discover_host("/nonexistent-shackd-root");
  CHECK_FALSE(none.any());
  CHECK(none.proc_io.empty());
  CHECK(read_host(none).problems.empty());
}

// UTF-8 where text enters (drivers/text/utf8.hpp): Unicode 15 §3.9, table 3-7, as written.
TEST_CASE("UTF-8: well-formed sequences pass, ill-formed ones are found and replaced, a cut keeps whole characters") {
  using drivers::text::clean_utf8;
  using drivers::text::first_invalid_utf8;
  CHECK_FALSE(first_invalid_utf8("plain, \xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x94\x8B").has_value());  // 1 to 4 bytes
  CHECK(first_invalid_utf8("ab\xC0\xAF") == 2u);              // an overlong '/'
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0u);            // a surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);        // past U+10FFFF
  CHECK(first_invalid_utf8("abc\xE2\x82") == 3u);             // cut short at the end
  CHECK(first_invalid_utf8(std::string_view("a\0b", 3)) == std::nullopt);  // NUL is a character
  CHECK(clean_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(clean_utf8("a\xE2\x82") == "a\xEF\xBF\xBD");  // one U+FFFD for a maximal subpart (§3.9), not one a byte
  CHECK(clean_utf8("x\xED\xA0\x80y").find("\xED") == std::string::npos);
  CHECK(clean_utf8("h\xC3\xA9llo w\xC3\xB6rld", 6) == "h\xC3\xA9\xE2\x80\xA6");  // "hé…": 6 bytes
  CHECK(clean_utf8("short", 6) == "short");
}

// A generator run on the simulator (issue 59, part 4), in process on the stepped clock
// (tests/support/sim_site.hpp): the simulator's generator on the inverter's AC input (sim/model.hpp:
// the GX's 826 reads 2 while it runs, 823 its output: the AC load and what its charger takes),
// read by the daemon's real GX device. With the miners' default surplus_only they stay off on
// generator power while the sun does not cover them, and start once it stops; with allow, every
// start holds to the generator's rating, so its output never passes continuous_w less the margin.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/sim_site.hpp"

namespace {

constexpr std::int64_t kGeneratorMorningPst = 1768143600000;  // 2026-01-11 07:00 America/Los_Angeles (15:00 UTC)
constexpr double kGeneratorW = 6000, kMarginW = 200;

// The AC-budget morning's site (tests/scenarios/ac_morning.yaml) with a generator after its
// inverter; `allow`: both miners' on_generator is allow (else their default, surplus_only).
std::string generator_config(bool allow) {
  std::string text = test::read_text(SHACKD_SOURCE_DIR "/tests/scenarios/ac_morning.yaml");
  const auto put = [&](const std::string& key, const std::string& value) {
    const auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    text.replace(at, key.size(), value);
  };
  put("${AC_SOURCES}",
      "ac_sources:\n  inverter:\n    continuous_w: 12000\n    load_w_l1: [vebus.ac_out_l1_w]\n"
      "    overload: [vebus.overload]\n  generator:\n    kind: generator\n    continuous_w: 6000\n"
      "    margin_w: 200\n");
  put("${VEBUS}", "    vebus_unit: 227");
  if (allow) {
    put("    - name: \"Primary S21+\"\n", "    - name: \"Primary S21+\"\n      on_generator: allow\n");
    put("    - name: \"Dump Load S19 #1\"\n", "    - name: \"Dump Load S19 #1\"\n      on_generator: allow\n");
  }
  return text;
}

// A mild day (no heat call), the house at 800 W and the generator running with its charger taking
// 1 kW. At 53 V the primary starts by voltage alone (50 V); at 55.5 V the dump too (54.5 V).
void generator_day(test::SimSite& site, bool allow, double pv_w, double battery_v) {
  site.scenario.rows.push_back({0, {{"battery_v", battery_v}, {"pv_w", pv_w}, {"house_w", 800}, {"battery_temp_c", 15},
                                    {"zone.Heat Room", 15}, {"zone.Main Room", 15}}});
  site.model.inverter_continuous_w = 12000;
  site.model.victron_pv_share = 1;
  site.model.generator_running = true;
  site.model.generator_charge_w = 1000;
  site.model.generator_continuous_w = kGeneratorW;
  REQUIRE(site.start(generator_config(allow), kGeneratorMorningPst));
}

}  // namespace

TEST_CASE("a generator run with surplus_only: the miners stay off on generator power, and start once it stops") {
  test::SimSite site(227);
  generator_day(site, false, 2000, 53.0);  // the sun covers the house, not a miner
  int miner_on_cycles = 0;
  for (int i = 0; i < 300; ++i) {  // 10 minutes on generator power
    site.step();
    miner_on_cycles += site.on("primary_s21") + site.on("dump_s19_1");
  }
  CHECK(miner_on_cycles == 0);
  const std::string primary = site.broker.last("shack/load/primary_s21/reason");
  INFO(primary);
  CHECK(primary.find("generator_surplus") != std::string::npos);
  CHECK(primary.find("generator") != std::string::npos);

  // The generator stops: the primary, which its voltage alone lets run, starts. Without the
  // policy it would have run all along: the wait above was the policy's.
  site.with_model([](sim::SiteModel& m) { m.generator_running = false; });
  bool started = false;
  for (int i = 0; i < 60 && !started; ++i) {  // 2 minutes
    site.step();
    started = site.on("primary_s21");
  }
  CHECK(started);
}

TEST_CASE("a generator run with allow: the generator's rating holds, the higher priority runs, the rest wait") {
  test::SimSite site(227);
  generator_day(site, true, 12000, 55.5);  // both miners would run on the sun alone
  double peak_w = 0;
  for (int i = 0; i < 450; ++i) {  // 15 minutes
    site.step();
    site.with_model([&](sim::SiteModel& m) { peak_w = std::max(peak_w, m.generator_w()); });
  }
  INFO("generator peak " << peak_w << " W");
  CHECK(peak_w > 800 + 1000);                  // it did carry a miner ...
  CHECK(peak_w <= kGeneratorW - kMarginW);     // ... and never more than its rating less the margin
  CHECK(site.model.generator_over_s == 0);
  CHECK(site.model.trips == 0);
  CHECK(site.on("primary_s21"));  // 800 + 1000 + 3878 + 200 <= 6000
  CHECK_FALSE(site.on("dump_s19_1"));
  const std::string dump = site.broker.last("shack/load/dump_s19_1/reason");
  INFO(dump);
  CHECK(dump.find("ac_budget") != std::string::npos);
  CHECK(dump.find("generator") != std::string::npos);
}

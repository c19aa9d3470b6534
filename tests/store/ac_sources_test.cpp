// ac_sources: and each load's source and phase (issue 59): read from the config, stored with the
// profiles (schema/0014_ac_feed.sql), handed to the rules; each error names the field, the value
// and the rule.
#include "daemon/config/ac_sources.hpp"
#include "daemon/config/config.hpp"
#include "daemon/loop/profiles_apply.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/store/profile_store.hpp"
#include "tests/store/fixture.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/lookups.hpp"

using shackd::ApplyOutcome;
using test::any_contains;

namespace {

shackd::ConfigResult parse(const std::string& extra) {
  std::string text = test::kFakeSiteConfig;
  text.replace(text.find("{DB}"), 4, "/tmp/x.db");
  return shackd::parse_config(text + extra, "x.yaml");
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("ac_sources: a split-phase inverter with its rating and readings") {
  const auto r = parse(
      "ac_sources:\n  inverter:\n    phases: 2\n    continuous_w: 4500\n    surge_w: 9000\n    margin_w: 300\n"
      "    overload_tolerance_s: 5\n    overload_hold_s: 600\n");
  REQUIRE_MESSAGE(r.errors.empty(), joined(r.errors));
  REQUIRE(r.config->ac_sources.size() == 1);
  const auto& a = r.config->ac_sources[0];
  CHECK(a.id == "inverter");
  CHECK(a.rating.name == "inverter");
  CHECK(a.rating.phases == 2);
  CHECK(a.rating.continuous_w == 4500);
  CHECK(a.rating.surge_w == 9000);
  CHECK(a.rating.margin_w == 300);
  CHECK(a.rating.overload_tolerance == std::chrono::seconds(5));
  CHECK(a.rating.overload_hold == std::chrono::seconds(600));
  // None configured: none here; the rules then use their one unrated default.
  CHECK(parse("").config->ac_sources.empty());
}

TEST_CASE("ac_sources: hostile values, each refused with its path, value and rule") {
  const auto r = parse(
      "ac_sources:\n  inverter:\n    phases: 4\n    continuous_w: -5\n    surge_w: 1e9\n    margin_w: nan\n"
      "    continous_w: 5000\n    load_w_l3: [victron.nowhere]\n"
      "  gen:\n    continuous_w: 5000\n    surge_w: 4000\n    margin_w: 5000\n    load_w_l1: [nowhere.w]\n");
  const std::string all = joined(r.errors);
  INFO(all);
  CHECK(any_contains(r.errors, "ac_sources.inverter.phases"));
  CHECK(any_contains(r.errors, "must be 1 to 3"));
  CHECK(any_contains(r.errors, "ac_sources.inverter.continuous_w"));
  CHECK(any_contains(r.errors, "-5 is out of range: must be 0 to 1000000"));
  CHECK(any_contains(r.errors, "ac_sources.inverter.surge_w"));
  CHECK(any_contains(r.errors, "ac_sources.inverter.margin_w"));
  CHECK(any_contains(r.errors, "continous_w"));  // an unknown key, with its near miss
  CHECK(any_contains(r.errors, "did you mean continuous_w"));
  CHECK(any_contains(r.errors, "surge_w 4000.0 must be 0 (not known) or at least continuous_w 5000.0"));
  CHECK(any_contains(r.errors, "margin_w 5000.0 must be below continuous_w 5000.0 (nothing could ever start)"));
  CHECK(any_contains(r.errors, "ac_sources.gen.load_w_l1: 'nowhere.w'"));
}

TEST_CASE("ac_sources: the wrong shapes are errors, never a crash or a source") {
  for (const char* section : {"ac_sources: 5\n", "ac_sources: [a, b]\n", "ac_sources:\n  inverter: 3\n",
                              "ac_sources:\n  inverter: [1]\n", "ac_sources:\n  inverter:\n    phases: [2]\n",
                              "ac_sources:\n  inverter:\n    load_w_l1: vebus.ac_out_l1_w\n",
                              "ac_sources:\n  inverter:\n    continuous_w: 1e999\n"}) {
    CAPTURE(section);
    const auto r = parse(section);
    CHECK_FALSE(r.errors.empty());
    MESSAGE(joined(r.errors));
  }
  const auto many = parse("ac_sources:\n  a: {}\n  b: {}\n  c: {}\n  d: {}\n  e: {}\n");
  REQUIRE(many.config);
  test::MigratedDb m;
  const auto errors = shackd::check_references(*many.config, shackd::load_profiles(m.db));
  CHECK(any_contains(errors, "ac_sources: 5 sources, at most 4 are supported"));
}

TEST_CASE("a load's source and phase: stored, read back, and handed to the rules' feeds") {
  test::MigratedDb m;
  const auto p0 = shackd::load_profiles(m.db);
  CHECK(p0.miners[0].ac_source.empty());  // the columns' defaults: the first source, L1
  CHECK(p0.miners[0].ac_phase == 1);
  CHECK(p0.zones[1].heater_ac_phase == 1);
  const auto r = shackd::apply_profiles(m.db,
                                        "profiles:\n  miners:\n    - name: Primary S21+\n      source: inverter\n"
                                        "      phase: 2\n    - name: \"Dump Load S19 #1\"\n  zones:\n"
                                        "    - name: Heat Room\n    - name: Main Room\n      heater_source: inverter\n"
                                        "      heater_phase: 2\n      heater_power_w: 1500\n",
                                        "shackd.yaml");
  REQUIRE_MESSAGE(r.outcome == ApplyOutcome::applied, (r.errors.empty() ? "" : r.errors.front()));
  INFO(joined(r.changes));
  CHECK(any_contains(r.changes, "phase 1 -> 2"));
  CHECK(m.db.scalar_int("SELECT phase FROM miner_profiles WHERE name = 'Primary S21+'") == 2);
  auto p = shackd::load_profiles(m.db);
  CHECK(p.miners[0].ac_source == "inverter");
  CHECK(p.zones[1].heater_ac_phase == 2);

  const auto cfg = parse("ac_sources:\n  inverter:\n    phases: 2\n");
  REQUIRE_MESSAGE(cfg.errors.empty(), joined(cfg.errors));
  CHECK(shackd::apply_ac_sources(*cfg.config, p).empty());
  CHECK(p.rules.ac_sources.size() == 1);
  CHECK(p.rules.miners[0].feed == rules::AcFeed{0, 1});
  CHECK(p.rules.miners[1].feed == rules::AcFeed{0, 0});
  CHECK(p.rules.zones[1].heater_feed == rules::AcFeed{0, 1});

  const auto bad = shackd::apply_profiles(m.db, "profiles:\n  miners:\n    - name: Primary S21+\n      phase: 4\n",
                                          "shackd.yaml");
  CHECK(bad.outcome == ApplyOutcome::rejected);
  CHECK(any_contains(bad.errors, "miner 'Primary S21+': phase 4 must be between 1 and 3"));
}

TEST_CASE("check_references: a source no ac_sources: defines, a phase it lacks, a draw its rating cannot take") {
  test::MigratedDb m;
  auto p = shackd::load_profiles(m.db);
  p.miners[0].ac_source = "invertr";
  p.zones[1].heater_ac_phase = 3;
  p.rules.zones[0].heater_power_w = p.rules.zones[1].heater_power_w = 1500;
  SUBCASE("no sources configured") {
    const auto cfg = parse("");
    const auto errors = shackd::check_references(*cfg.config, p);
    CHECK(any_contains(errors,
                       "profiles: miner 'Primary S21+': source 'invertr': no ac_sources: are configured (leave source "
                       "empty for the one inverter)"));
  }
  SUBCASE("a near miss, then the phase") {
    const auto cfg = parse("ac_sources:\n  inverter:\n    phases: 2\n    continuous_w: 3500\n");
    REQUIRE_MESSAGE(cfg.errors.empty(), joined(cfg.errors));
    auto errors = shackd::check_references(*cfg.config, p);
    CHECK(any_contains(errors, "source 'invertr' is not defined under ac_sources: (one of inverter)"));
    p.miners[0].ac_source = "inverter";
    errors = shackd::check_references(*cfg.config, p);
    INFO(joined(errors));
    CHECK(any_contains(errors, "profiles: zone 'Main Room': heater_phase L3: AC source 'inverter' has 2 phases"));
    CHECK(any_contains(errors, "profiles: miner 'Primary S21+': power_w 3878.0 plus margin_w 200.0 is above the "
                               "continuous_w 3500.0 of AC source 'inverter' phase L1: it could never start"));
  }
}

TEST_CASE("the snapshot's AC sources: the GX's VE.Bus words with no config, the configured readings otherwise") {
  std::string text = test::kFakeSiteConfig;
  text.replace(text.find("{DB}"), 4, "/tmp/x.db");
  const std::string unit = "    battery_unit: 225\n";
  text.replace(text.find(unit), unit.size(), unit + "    vebus_unit: 227\n");
  const auto r = shackd::parse_config(text, "x.yaml");
  REQUIRE_MESSAGE(r.errors.empty(), joined(r.errors));
  const auto m = shackd::devices::snapshot_mapping(*r.config, rules::Thresholds{});
  REQUIRE(m.ac.size() == 1);  // the one default source
  CHECK(m.ac[0].overload == std::vector<std::string>{"vebus.overload"});
  CHECK(m.ac[0].overload_phase[0] == std::vector<std::string>{"vebus.overload_l1"});
  CHECK(m.ac[0].load_w[0] == std::vector<std::string>{"vebus.ac_out_l1_w"});

  // Without a VE.Bus unit the GX offers none: nothing known, and an unrated source holds nothing.
  const auto plain = parse("");
  const auto m0 = shackd::devices::snapshot_mapping(*plain.config, rules::Thresholds{});
  REQUIRE(m0.ac.size() == 1);
  CHECK(m0.ac[0].overload.empty());

  const auto two = shackd::parse_config(
      text + "ac_sources:\n  east:\n    phases: 2\n    load_w_l2: [vebus.ac_out_l2_w]\n    overload: [vebus.overload]\n"
             "  west:\n    continuous_w: 3000\n    surge_w: 6000\n",
      "x.yaml");
  REQUIRE_MESSAGE(two.errors.empty(), joined(two.errors));
  const auto m2 = shackd::devices::snapshot_mapping(*two.config, rules::Thresholds{});
  REQUIRE(m2.ac.size() == 2);
  CHECK(m2.ac[0].load_w[1] == std::vector<std::string>{"vebus.ac_out_l2_w"});
  CHECK(m2.ac[1].overload.empty());
  const auto bad = shackd::parse_config(text + "ac_sources:\n  east:\n    load_w_l2: [vebus.ac_out_l2_w]\n", "x.yaml");
  CHECK(any_contains(bad.errors, "names readings for L2, but phases is 1"));
}

TEST_CASE("a generator source: its kind, its output from the GX's genset power, the running word; errors") {
  const auto r = parse("ac_sources:\n  inverter:\n    continuous_w: 8000\n  genset:\n    kind: generator\n"
                       "    phases: 2\n    continuous_w: 3000\n");
  REQUIRE_MESSAGE(r.errors.empty(), joined(r.errors));
  REQUIRE(r.config->ac_sources.size() == 2);
  CHECK(r.config->ac_sources[0].rating.kind == rules::AcSourceKind::inverter);
  CHECK(r.config->ac_sources[1].rating.kind == rules::AcSourceKind::generator);
  const auto m = shackd::devices::snapshot_mapping(*r.config, rules::Thresholds{});
  REQUIRE(m.ac.size() == 2);
  CHECK(m.ac[1].load_w[0] == std::vector<std::string>{"system.genset_l1_w"});
  CHECK(m.ac[1].load_w[1] == std::vector<std::string>{"system.genset_l2_w"});
  CHECK(m.ac[1].load_w[2].empty());  // it has two phases
  CHECK(m.ac[0].load_w[0].empty());  // an inverter names its own
  REQUIRE(m.generator_running.size() == 1);
  CHECK(m.generator_running[0].reading == "system.active_input");
  CHECK(m.generator_running[0].running == std::vector<int>{2});
  // Named readings win over the offer.
  const auto named = parse("ac_sources:\n  inverter: {}\n  gen:\n    kind: generator\n    load_w_l1: [system.ac_consumption_l1_w]\n");
  REQUIRE_MESSAGE(named.errors.empty(), joined(named.errors));
  CHECK(shackd::devices::snapshot_mapping(*named.config, rules::Thresholds{}).ac[1].load_w[0] ==
        std::vector<std::string>{"system.ac_consumption_l1_w"});

  const auto bad = parse("ac_sources:\n  inverter:\n    kind: turbine\n");
  CHECK(any_contains(bad.errors, "ac_sources.inverter.kind"));
  CHECK(any_contains(bad.errors, "'turbine' must be inverter or generator"));
  for (const char* shape : {"[generator]", "~", "{a: 1}"}) {
    const auto odd = parse(std::string("ac_sources:\n  inverter:\n    kind: ") + shape + "\n");
    INFO(shape << ": " << joined(odd.errors));
    CHECK(odd.errors.size() == 1);  // its shape, said once
    CHECK(any_contains(odd.errors, "ac_sources.inverter.kind"));
  }

  // A load fed by the generator (its source names it, or it is first and the source is empty).
  test::MigratedDb db;
  auto p = shackd::load_profiles(db.db);
  const auto first = parse("ac_sources:\n  gen:\n    kind: generator\n  inverter: {}\n");
  REQUIRE_MESSAGE(first.errors.empty(), joined(first.errors));
  const auto errors = shackd::check_references(*first.config, p);
  CHECK(any_contains(errors, "profiles: miner 'Primary S21+': source names generator 'gen': a generator feeds an "
                             "inverter's AC input, not a load"));
}

TEST_CASE("on_generator and heater_on_generator: the columns' defaults, stored, handed to the rules, refused when wrong") {
  test::MigratedDb m;
  auto p0 = shackd::load_profiles(m.db);
  CHECK(p0.rules.miners[0].on_generator == rules::GeneratorPolicy::surplus_only);
  CHECK(p0.rules.zones[0].heater_on_generator == rules::GeneratorPolicy::allow);
  CHECK(m.db.scalar_int("SELECT count(*) FROM miner_profiles WHERE on_generator = 'surplus_only'") == 2);
  const auto r = shackd::apply_profiles(m.db,
                                        "profiles:\n  miners:\n    - name: Primary S21+\n      on_generator: allow\n"
                                        "    - name: \"Dump Load S19 #1\"\n      on_generator: never\n  zones:\n"
                                        "    - name: Heat Room\n    - name: Main Room\n"
                                        "      heater_on_generator: surplus_only\n",
                                        "shackd.yaml");
  REQUIRE_MESSAGE(r.outcome == ApplyOutcome::applied, (r.errors.empty() ? "" : r.errors.front()));
  const auto p = shackd::load_profiles(m.db);
  CHECK(p.rules.miners[0].on_generator == rules::GeneratorPolicy::allow);
  CHECK(p.rules.miners[1].on_generator == rules::GeneratorPolicy::never);
  CHECK(p.rules.zones[1].heater_on_generator == rules::GeneratorPolicy::surplus_only);
  const auto bad = shackd::apply_profiles(
      m.db, "profiles:\n  miners:\n    - name: Primary S21+\n      on_generator: sometimes\n", "shackd.yaml");
  CHECK(bad.outcome == ApplyOutcome::rejected);
  INFO(joined(bad.errors));
  CHECK(any_contains(bad.errors, "on_generator"));
  CHECK(any_contains(bad.errors, "sometimes"));
  // The column refuses it too, whatever writes it.
  CHECK_THROWS(m.db.exec("UPDATE miner_profiles SET on_generator = 'sometimes'"));
}

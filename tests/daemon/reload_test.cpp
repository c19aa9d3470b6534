// A reload is all or nothing (issue 27): the new devices and MQTT side are built aside, the
// profiles checked and stored, and only then taken; a throw at any step keeps the running
// runtime whole, relays included. In process, through a FakeLink (tests/support/fake_site.hpp).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "daemon/loop/reload_job.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/alias_bomb.hpp"
#include "tests/support/fake_site.hpp"

using test::FakeSite;

namespace {

// The config with a changed MQTT section (a reload rebuilds the link and the relays) and/or a
// changed device (it rebuilds the pollers). (FakeSite::gx points at the newest device made: a
// test that makes one and has the reload refused must not use it.)
std::string changed_config(bool mqtt, bool devices) {
  std::string c = test::kFakeSiteConfig;
  if (mqtt) c.replace(c.find("  prefix: shack\n"), 16, "  prefix: shack\n  keepalive_s: 45\n");
  if (devices) c.replace(c.find("    battery_unit: 225\n"), 22, "    battery_unit: 225\n    timeout_ms: 3000\n");
  return c;
}

// The running relays still obey: the battery falls under shutdown and the OFF goes out.
void relays_still_obey(FakeSite& s) {
  const std::size_t from = s.broker.published.size();
  s.set_battery(43.0);
  s.cycles(1);
  CHECK_FALSE(s.daemon->loop().decision().miners.at(0).on);
  CHECK(s.broker.payloads("cmnd/primary_s21/POWER1", from) == std::vector<std::string>{"OFF"});
}

bool refused_with(const FakeSite& s, std::size_t from, const std::string& text) {
  for (const auto& e : s.broker.payloads("shack/event", from)) {
    if (e.find("reload refused") != std::string::npos && e.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("reload: a throw while building the MQTT side keeps the running link and relays") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  REQUIRE(s.daemon->loop().decision().miners.at(0).on);
  REQUIRE(s.broker.links_made == 1);
  s.write_config(changed_config(true, false));
  s.fail_mqtt = true;
  const std::size_t from = s.broker.published.size();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(refused_with(s, from, "the test's MQTT factory failed"));
  CHECK(s.broker.links_started == 1);
  relays_still_obey(s);
}

TEST_CASE("reload: a throw while building the devices keeps the running pollers") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  s.write_config(changed_config(true, true));
  s.fail_devices = true;
  const std::size_t from = s.broker.published.size();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(refused_with(s, from, "the test's device factory failed"));
  CHECK(s.broker.links_started == 1);
  CHECK(s.daemon->loop().decision().battery.measured_v == doctest::Approx(54.0));  // the old GX still polled
  relays_still_obey(s);
}

TEST_CASE("reload: a refused profiles: section refuses the reload whole, with no 'reloaded' event") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  std::string bad = changed_config(true, false);
  bad.replace(bad.find("      start_delay_s: 1\n"), 23, "      start_delay_s: 1\n      stop_voltage: 51.0\n");
  s.write_config(bad);
  const std::size_t from = s.broker.published.size();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(refused_with(s, from, "the profiles: section"));
  for (const auto& e : s.broker.payloads("shack/event", from)) CHECK(e.find("reloaded") == std::string::npos);
  CHECK(s.broker.links_started == 1);
  relays_still_obey(s);
}

TEST_CASE("reload: a good one takes the new link, and its relays re-assert what is wanted") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  REQUIRE(s.daemon->loop().decision().miners.at(0).on);
  s.write_config(changed_config(true, true));
  const std::size_t from = s.broker.published.size();
  shackd::signals::reload = true;
  s.cycles(2);
  CHECK(s.broker.links_started == 2);
  CHECK(s.devices_made == 2);
  CHECK(s.daemon->loop().decision().miners.at(0).on);  // carried over by name: no flap
  const auto on = s.broker.payloads("cmnd/primary_s21/POWER1", from);
  CHECK(std::count(on.begin(), on.end(), "OFF") == 0);
  CHECK(std::count(on.begin(), on.end(), "ON") >= 1);  // the new manager re-asserts after its connect
  relays_still_obey(s);
}

// Issue 48: a 2 kB alias bomb stalled the loop on SIGHUP (no cycle, no ping, no OFF at 43 V)
// and hung every start: the config's walk through aliases had no bound.
TEST_CASE("reload: a YAML alias bomb is refused at once; the cycle goes on and its relays obey") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  s.write_config(std::string(test::kFakeSiteConfig) + test::alias_bomb());
  const std::size_t from = s.broker.published.size();
  const int pings = s.pings();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(refused_with(s, from, "expands to more than 100000 values"));
  CHECK(s.pings() == pings + 2);  // both cycles pinged the watchdog
  relays_still_obey(s);
}

TEST_CASE("start: a YAML alias bomb is a config error (78), refused at once") {
  FakeSite s("", {}, std::string(test::kFakeSiteConfig) + test::alias_bomb("profiles_extra"));
  CHECK(s.daemon->start() == shackd::kExConfig);
}

TEST_CASE("broker outage in process: nothing queued for the relays, the present decision re-asserted on reconnect") {
  FakeSite s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  REQUIRE(s.daemon->loop().decision().miners.at(0).on);
  s.broker.message("stat/primary_s21/POWER1", "ON");
  s.cycles(1);
  s.broker.set_up(false);
  s.cycles(1);
  const int pings = s.pings();
  const std::size_t from = s.broker.published.size();
  s.set_battery(43.0);  // decided while the broker is away
  s.cycles(5);
  CHECK_FALSE(s.daemon->loop().decision().miners.at(0).on);
  CHECK(s.broker.published.size() == from);  // nothing went out, nothing was kept for later
  CHECK(s.pings() == pings + 5);              // and the loop kept deciding
  CHECK(s.status().find("MQTT DOWN") != std::string::npos);
  s.set_battery(54.0);
  s.cycles(1);  // back above start: the decision would be ON again, still unsent
  s.set_battery(43.0);
  s.cycles(1);
  s.broker.set_up(true);
  s.cycles(1);
  // Only the present decision, OFF; never the stale ON of the moment in between.
  CHECK(s.broker.payloads("cmnd/primary_s21/POWER1", from) == std::vector<std::string>{"OFF"});
  // Nothing reached the broker meanwhile: shack/health tells the outage afterwards, with its
  // length and cause (the fault matrix's broker row asked this of a real broker).
  const auto health = nlohmann::json::parse(s.broker.last("shack/health"), nullptr, false);
  REQUIRE(health.is_object());
  const auto& m = health["mqtt"];
  CHECK(m["connected"] == true);
  CHECK(m["outages"].get<int>() >= 1);
  CHECK(m["last_outage"]["duration_s"].get<int>() >= 7);  // 8 cycles of 1 s on the stepped clock
  CHECK_FALSE(m["last_outage"]["cause"].get<std::string>().empty());
}

// A reload's refusal names its parts (issue 57, item 6): here the file's, its path the value.
TEST_CASE("reload: a config that cannot be read is refused with field 'config' and its path") {
  const shackd::Config running;
  shackd::ReloadParts parts;
  parts.config_path = "/nonexistent/shackd.yaml";
  parts.kinds = drivers::builtin_kinds();
  const shackd::ReloadOutcome o = shackd::reload_job(running, parts);
  REQUIRE(o.refusal);
  CHECK(o.refusal->field == "config");
  CHECK(o.refusal->value == "/nonexistent/shackd.yaml");
  CHECK(o.refusal->load_id.empty());
  CHECK_FALSE(o.refusal->rule.empty());
  CHECK(o.refusal->said == o.refusal->rule);
  CHECK_FALSE(o.next);
}

// `shackd report`'s day: read from a real SQLite file and drawn as SVG; the switch times and
// reasons in the picture are the events table's.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cmath>
#include <ctime>

#include "daemon/report/svg.hpp"
#include "rules/reason.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/shadow_rows.hpp"
#include "tests/store/fixture.hpp"

namespace {
// 2026-11-23 00:00 in Los Angeles (PST, UTC-8) is 08:00 UTC.
constexpr std::int64_t kMidnight = 1795420800;

struct Zone {
  explicit Zone(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }
  ~Zone() {
    unsetenv("TZ");
    tzset();
  }
};

void actuation(shackd::RuntimeStore& s, std::int64_t at, const std::string& load, bool on, rules::ReasonCode code,
               const std::string& detail) {
  shackd::Event e;
  e.at_unix_s = at;
  e.kind = "actuation";
  e.load_id = load;
  e.commanded_on = on;
  e.reason_code = static_cast<int>(code);
  e.reason = std::string(rules::code_name(code));
  e.detail = detail;
  s.add_event(e);
}

// A command through the miner's API: an actuation with no relay state; a target carries its watts.
void api_command(shackd::RuntimeStore& s, std::int64_t at, const std::string& load, std::optional<double> target_w) {
  shackd::Event e;
  e.at_unix_s = at;
  e.kind = "actuation";
  e.load_id = load;
  e.reason = target_w ? "target_surplus" : "below_stop_voltage";
  e.detail = target_w ? "power target through its API" : "sleep through its API: accepted";
  e.target_w = target_w;
  s.add_event(e);
}
}  // namespace

TEST_CASE("a day's report: the switches, their reasons and the alarms, in the site's local time") {
  test::MigratedDb m;
  m.db.exec("UPDATE site_preferences SET timezone = 'America/Los_Angeles'");
  shackd::RuntimeStore store(m.db);
  // Left on the evening before: on at midnight.
  actuation(store, kMidnight - 3600, "primary_s21", true, rules::ReasonCode::running, "on the day before");
  api_command(store, kMidnight - 1800, "primary_s21", 3000);  // not a switch: it is still on at midnight
  api_command(store, kMidnight + 6 * 3600, "primary_s21", 2400);
  api_command(store, kMidnight + 7 * 3600 + 41 * 60, "primary_s21", std::nullopt);  // asleep, then its relay
  actuation(store, kMidnight + 7 * 3600 + 42 * 60, "primary_s21", false, rules::ReasonCode::below_stop_voltage,
            "47.90 V below the stop voltage 48.00 V");
  actuation(store, kMidnight + 11 * 3600 + 5 * 60, "primary_s21", true, rules::ReasonCode::running, "52.1 V");
  actuation(store, kMidnight + 24 * 3600 + 60, "primary_s21", false, rules::ReasonCode::idle, "the next day");
  shackd::Event alarm;
  alarm.at_unix_s = kMidnight + 3 * 3600;
  alarm.kind = "alarm";
  alarm.reason = "voltage_fallback";
  alarm.detail = "the battery monitor is stale, deciding on <the GX> & co";
  store.add_event(alarm);
  // The 11:05 ON never confirmed by the relay until 11:35: hatched, not drawn as done.
  shackd::Event unconfirmed = alarm;
  unconfirmed.at_unix_s = kMidnight + 11 * 3600 + 6 * 60;
  unconfirmed.load_id = "primary_s21";
  unconfirmed.detail = "relay_unconfirmed: commanded ON, device reports nothing";
  store.add_event(unconfirmed);
  shackd::Event confirmed = unconfirmed;
  confirmed.at_unix_s = kMidnight + 11 * 3600 + 35 * 60;
  confirmed.kind = "alarm_end";
  confirmed.detail = "relay_confirmed: the device now reports the commanded state";
  store.add_event(confirmed);
  shackd::Event back = alarm;  // its end: drawn apart, green
  back.at_unix_s = kMidnight + 3 * 3600 + 600;
  back.kind = "alarm_end";
  back.detail = "victron: reading again";
  store.add_event(back);
  for (int i = 0; i < 24 * 60; ++i) {
    shackd::TelemetrySample t;
    t.battery_v = 50.0 + 2.0 * std::sin(i / 229.0);
    t.pv_w = i > 420 && i < 1020 ? 3000.0 : 0.0;
    t.load_w = 900;
    store.add_sample(kMidnight + i * 60, t);
    if (i % 60 == 59) store.flush(kMidnight + i * 60 + 59);
  }
  store.flush(kMidnight + 24 * 3600, true);

  const shackd::StoredProfiles profiles = shackd::load_profiles(m.db);
  std::string why;
  auto day = shackd::report::read_day(m.db, profiles, "2026-11-23", why);
  REQUIRE(day);
  CHECK(day->start == kMidnight);
  CHECK(day->end == kMidnight + 24 * 3600);
  CHECK(day->minutes.size() == 24 * 60);
  const auto& primary = day->loads.at(0);
  CHECK(primary.id == "primary_s21");
  CHECK(primary.on_at_start);
  REQUIRE(primary.switches.size() == 2);  // the day's own: not the evening before, not the next day
  REQUIRE(primary.targets.size() == 2);   // the one in force at midnight, the day's own; a sleep is none
  CHECK(primary.targets[0].t == kMidnight);
  CHECK(primary.targets[0].w == 3000);
  CHECK(primary.targets[1].w == 2400);
  CHECK(day->marks.size() == 4);
  REQUIRE(primary.unconfirmed.size() == 1);
  CHECK(primary.unconfirmed[0].first == kMidnight + 11 * 3600 + 5 * 60);  // from the command
  CHECK(primary.unconfirmed[0].second == kMidnight + 11 * 3600 + 35 * 60);

  Zone tz("America/Los_Angeles");
  const std::string svg = shackd::report::render_svg(*day);
  CHECK(svg.find("07:42 OFF below_stop_voltage") != std::string::npos);
  CHECK(svg.find("11:05 ON running") != std::string::npos);
  CHECK(svg.find("<title>47.90 V below the stop voltage 48.00 V</title>") != std::string::npos);
  CHECK(svg.find("03:00 alarm: the battery monitor is stale, deciding on &lt;the GX&gt; &amp; co") != std::string::npos);
  CHECK(svg.find("fill=\"#238b45\">03:10 cleared: victron: reading again") != std::string::npos);
  CHECK(svg.find("fill=\"url(#unconfirmed)\"><title>commanded, not confirmed by the relay</title>") != std::string::npos);
  CHECK(svg.find("Primary S21+ start") != std::string::npos);  // its threshold, labelled
  // Its target: 3000 W from midnight, 2400 W from 06:00 until its stop at 07:42, a line in its
  // bar (x: 80 + 1090 px a day).
  CHECK(svg.find("target 2400-3000 W, 2 sets") != std::string::npos);
  CHECK(svg.find("<path d=\"M80.0,") != std::string::npos);
  CHECK(svg.find("H352.5M352.5,") != std::string::npos);
  CHECK(svg.find("H429.7\"") != std::string::npos);
  if (const char* keep = std::getenv("SHACKD_KEEP_SVG")) {
    std::FILE* f = std::fopen(keep, "w");  // to look at it: SHACKD_KEEP_SVG=/tmp/day.svg
    if (f) std::fputs(svg.c_str(), f), std::fclose(f);
  }
  CHECK(svg.find("the next day") == std::string::npos);

  CHECK_FALSE(shackd::report::read_day(m.db, profiles, "2026-02-30", why));
  CHECK(why.find("not a date in the calendar") != std::string::npos);
  CHECK_FALSE(shackd::report::read_day(m.db, profiles, "yesterday", why));
  CHECK(why.find("not a date like 2026-11-23") != std::string::npos);
}

TEST_CASE("a day that changes the clock has 23 or 25 hours") {
  std::string why;
  const auto spring = shackd::report::day_bounds("2026-03-08", "America/Los_Angeles", why);
  REQUIRE(spring);
  CHECK(spring->second - spring->first == 23 * 3600);
  const auto autumn = shackd::report::day_bounds("2026-11-01", "America/Los_Angeles", why);
  REQUIRE(autumn);
  CHECK(autumn->second - autumn->first == 25 * 3600);
}

// Shadow mode (issue 60): the day's disagreements, each a strip under its load's bar with the
// decision's reason; a spell from the day before is cut at midnight, one of the next day left out.
TEST_CASE("a day's report draws shadow mode's disagreements with their reasons") {
  test::MigratedDb m;
  m.db.exec("UPDATE site_preferences SET timezone = 'America/Los_Angeles'");
  shackd::RuntimeStore store(m.db);
  for (int i = 0; i < 24 * 60; i += 10) {
    shackd::TelemetrySample t;
    t.battery_v = 50.0;
    store.add_sample(kMidnight + i * 60, t);
  }
  store.flush(kMidnight + 24 * 3600, true);
  const auto ms = [](std::int64_t s) { return s * 1000; };
  shackd::save_shadow_row(m.db, {"primary_s21", ms(kMidnight - 600), ms(kMidnight + 600), true, false, 1, "running", 4800, false, ""});
  shackd::save_shadow_row(m.db, {"primary_s21", ms(kMidnight + 9 * 3600), ms(kMidnight + 9 * 3600 + 1800), false, true, 41,
                                 "below start voltage: 49.00 V < 50.00 V", 7200, false, ""});
  shackd::save_shadow_row(m.db, {"primary_s21", ms(kMidnight + 25 * 3600), std::nullopt, false, true, 41, "the next day", 1, false, ""});
  const shackd::StoredProfiles profiles = shackd::load_profiles(m.db);
  std::string why;
  auto day = shackd::report::read_day(m.db, profiles, "2026-11-23", why);
  REQUIRE(day);
  const auto& primary = day->loads.at(0);
  REQUIRE(primary.shadow.size() == 2);
  CHECK(primary.shadow[0].from == kMidnight - 600);
  CHECK(primary.shadow[1].from == kMidnight + 9 * 3600);
  CHECK(primary.shadow[1].to == kMidnight + 9 * 3600 + 1800);
  CHECK_FALSE(primary.shadow[1].would_on);
  CHECK(primary.shadow[1].actual_on);
  Zone tz("America/Los_Angeles");
  const std::string svg = shackd::report::render_svg(*day);
  CHECK(svg.find("<title>09:00-09:30 shadow: would be OFF, the site had it ON: below start voltage: 49.00 V &lt; 50.00 V</title>") !=
        std::string::npos);
  CHECK(svg.find("<title>00:00-00:10 shadow: would be ON, the site had it OFF: running</title>") != std::string::npos);
  CHECK(svg.find("the next day") == std::string::npos);
}

// A day whose record is a few minutes long: where it ends is said in the right margin, beside the
// loads' header, not at the record's end, which is under the header's first words.
TEST_CASE("a day's report says where a short record ends without writing over the loads' header") {
  test::MigratedDb m;
  m.db.exec("UPDATE site_preferences SET timezone = 'America/Los_Angeles'");
  shackd::RuntimeStore store(m.db);
  for (int i = 0; i < 5; ++i) {
    shackd::TelemetrySample t;
    t.battery_v = 52.0;
    store.add_sample(kMidnight + i * 60, t);
  }
  store.flush(kMidnight + 300, true);
  const shackd::StoredProfiles profiles = shackd::load_profiles(m.db);
  std::string why;
  auto day = shackd::report::read_day(m.db, profiles, "2026-11-23", why);
  REQUIRE(day);
  Zone tz("America/Los_Angeles");
  const std::string svg = shackd::report::render_svg(*day);
  if (const char* keep = std::getenv("SHACKD_KEEP_SHORT_SVG")) {
    std::FILE* f = std::fopen(keep, "w");  // to look at it: SHACKD_KEEP_SHORT_SVG=/tmp/short.svg
    if (f) std::fputs(svg.c_str(), f), std::fclose(f);
  }
  const auto said = svg.find(">no record after 00:05</text>");
  REQUIRE(said != std::string::npos);
  // In the right margin: x = 80 + 1090 + 6 (the plot's right edge and the labels' gap).
  const auto text_at = svg.rfind("<text ", said);
  CHECK(svg.substr(text_at, said - text_at).find("x=\"1176.0\"") != std::string::npos);
  // And the line where it ends, through the loads' rows: 5 minutes of 1090 px a day from x = 80.
  CHECK(svg.find("<line x1=\"83.8\"") != std::string::npos);
}

#include "daemon/cli/report.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "daemon/cli/cli_args.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/report/shadow_tally.hpp"
#include "daemon/report/svg.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/system/exit_codes.hpp"

extern char** environ;

namespace shackd {

namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

// rsvg-convert (Debian: librsvg2-bin) from the PATH: 0 when it wrote `png`, else a reason.
std::string to_png(const std::string& svg_path, const std::string& png_path) {
  const char* args[] = {"rsvg-convert", "--format=png", "--output", png_path.c_str(), svg_path.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "rsvg-convert", nullptr, nullptr, const_cast<char**>(args), environ) != 0) {
    return "rsvg-convert is not installed (Debian: apt install librsvg2-bin)";
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return "rsvg-convert did not finish";
  if (WEXITSTATUS(status) != 0) {
    return WEXITSTATUS(status) == 127 ? "rsvg-convert is not installed (Debian: apt install librsvg2-bin)"
                                      : fmt::format("rsvg-convert failed (exit {})", WEXITSTATUS(status));
  }
  return "";
}

}  // namespace

int cmd_report(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd report [--config FILE] [--day YYYY-MM-DD] [--out FILE.svg|FILE.png]\n"
        "  One day from the database as a picture: battery voltage with the thresholds, PV and load,\n"
        "  each load's on-periods with the time and reason of every switch, and the alarms, overrides\n"
        "  and config changes; in shadow mode its disagreements, and per load what they cost or would\n"
        "  have gained (minutes, kWh of surplus, Ah of the bank, minutes below its stop voltage).\n"
        "  The day is local to the site's timezone (default: today). SVG opens in\n"
        "  any browser; PNG needs rsvg-convert (Debian: librsvg2-bin). Default --out:\n"
        "  shackd-YYYY-MM-DD.svg in the current directory. Reads only.\n"
        "  Exit 0 written, 64 usage, 65 unreadable database, 69 no rsvg-convert for a PNG, 73 cannot\n"
        "  write --out, 78 config.\n");
    return kExOk;
  }
  try {
    const Args a = parse_args("shackd report", argv, {"--config", "--day", "--out"}, {});
    const ConfigResult c = load_config(a.get("--config", "/etc/shackd/shackd.yaml"));
    if (!c.config) {
      for (const auto& e : c.errors) fmt::print(stderr, "{}\n", e);
      return kExConfig;
    }
    db::Db db(c.config->database_path, {.read_only = true});
    require_current(db, embedded_migrations());
    std::vector<std::string> errors;
    const auto in_force = profiles_in_force(load_profiles(db), c.config->profiles, errors);
    for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
    if (!in_force) return kExConfig;
    StoredProfiles profiles = *in_force;
    const std::string date =
        a.get("--day", report::local_date(static_cast<std::int64_t>(std::time(nullptr)), profiles.site.timezone));
    std::string why;
    auto day = report::read_day(db, profiles, date, why);
    if (!day) {
      fmt::print(stderr, "shackd report: {}\n", why);
      return kExUsage;
    }
    day->site_name = c.config->site_name;
    setenv("TZ", profiles.site.timezone.c_str(), 1);  // the picture's clock times are the site's
    tzset();
    const std::string svg = report::render_svg(*day);
    const std::string out = a.get("--out", "shackd-" + date + ".svg");
    const bool png = out.size() > 4 && out.compare(out.size() - 4, 4, ".png") == 0;
    const std::string svg_path = png ? out.substr(0, out.size() - 4) + ".svg" : out;
    if (!write_file(svg_path, svg)) {
      fmt::print(stderr, "shackd report: cannot write {}\n", svg_path);
      return 73;  // EX_CANTCREAT
    }
    if (png) {
      if (const std::string failed = to_png(svg_path, out); !failed.empty()) {
        fmt::print(stderr, "shackd report: no PNG: {}; the SVG is at {}\n", failed, svg_path);
        return kExUnavailable;
      }
    }
    int switches = 0;
    for (const auto& l : day->loads) switches += static_cast<int>(l.switches.size());
    fmt::print("{}: {} ({} minute(s) of telemetry, {} switch(es), {} alarm(s), override(s) and config change(s))\n",
               date, out, day->minutes.size(), switches, day->marks.size());
    // Shadow mode's day in figures (issue 60), where it ran beside another controller.
    for (const auto& line : report::shadow_tally_lines(report::shadow_tally(*day, profiles))) fmt::print("{}\n", line);
    for (const auto& line : report::shadow_tally_lines(report::shadow_tally(*day, profiles, true), true)) fmt::print("{}\n", line);
    return kExOk;
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shackd report: {}\n", e.what());
    return kExDataErr;
  }
}

}  // namespace shackd

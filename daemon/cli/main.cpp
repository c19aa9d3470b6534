// shackd: the command-line entry point. Each command has --help; `shackd --version` prints the
// version.
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "daemon/cli/cli_args.hpp"
#include "daemon/cli/demo_day.hpp"
#include "daemon/cli/probe.hpp"
#include "daemon/cli/relay_power_on.hpp"
#include "daemon/cli/replay.hpp"
#include "daemon/cli/report.hpp"
#include "daemon/cli/run_commands.hpp"
#include "daemon/cli/status.hpp"
#include "daemon/cli/store_commands.hpp"

namespace {

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: shackd <command> [options]\n"
             "\n"
             "commands:\n"
             "  run               run the controller (the systemd service runs this)\n"
             "  check             validate the config and the database\n"
             "  once              one poll and one decision, printed; nothing is switched\n"
             "  status            what is on, why and since when; device health\n"
             "  probe             find the GX's unit ids and map generation, check a Sol-Ark; print devices:\n"
             "  relays power-on-off  set the relays to stay OFF when their power comes back (asks first)\n"
             "  replay            the rules over recorded telemetry, optionally with a changed profile\n"
             "  report            one day as a picture (SVG or PNG): voltage, PV, each load's switches\n"
             "  demo-day          run the rules over a built-in simulated day and print every decision\n"
             "  migrate           create or upgrade the database from the built-in schema migrations\n"
             "  db check          check the database's integrity and schema\n"
             "  profiles export   print the database's profiles as YAML\n"
             "  profiles apply    apply a config's profiles: section to the database\n"
             "\n"
             "  <command> --help  help on one command\n"
             "  --version         print the version\n");
}

}  // namespace

namespace {

int dispatch(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  // Started with stdin, stdout or stderr closed, the next open(2) would take that number, and the
  // log would be written into a lock file or a socket: hold each with /dev/null instead.
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int null_fd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null_fd >= 0 && null_fd != fd) {
        dup2(null_fd, fd);
        close(null_fd);
      }
    }
  }
  // No path ends in std::terminate: whatever escapes a command is one line and exit 70.
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shackd: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "shackd: internal error (unknown exception)\n");
  }
  return shackd::kExSoftware;
}

namespace {

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return shackd::kExUsage;
  }
  const std::string cmd = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return shackd::kExOk;
  }
  if (cmd == "--version") {
    fmt::print("shackd {}\n", SHACKD_VERSION);
    return shackd::kExOk;
  }
  if (cmd == "run") return shackd::cmd_run(rest);
  if (cmd == "check") return shackd::cmd_check(rest);
  if (cmd == "once") return shackd::cmd_once(rest);
  if (cmd == "status") return shackd::cmd_status(rest);
  if (cmd == "probe") return shackd::cmd_probe(rest);
  if (cmd == "relays") return shackd::cmd_relays(rest);
  if (cmd == "replay") return shackd::cmd_replay(rest);
  if (cmd == "report") return shackd::cmd_report(rest);
  if (cmd == "migrate") return shackd::cmd_migrate(rest);
  if (cmd == "db") return shackd::cmd_db(rest);
  if (cmd == "profiles") return shackd::cmd_profiles(rest);
  if (cmd == "demo-day") {
    if (!rest.empty() && rest[0] == "--help") {
      fmt::print("usage: shackd demo-day\n  Runs the Solar Shack defaults over a simulated day; actuates nothing.\n");
      return shackd::kExOk;
    }
    if (!rest.empty()) {
      fmt::print(stderr, "shackd demo-day: unknown argument '{}' (it takes none; see --help)\n", rest[0]);
      return shackd::kExUsage;
    }
    shackd::run_demo_day(stdout);
    return shackd::kExOk;
  }
  fmt::print(stderr, "shackd: unknown command '{}'\n", cmd);
  usage(stderr);
  return shackd::kExUsage;
}

}  // namespace

// shackd: the command-line entry point. Until the daemon (issue 6) lands it offers the
// built-in demo day; the CLI shape (subcommand, --help, --version) is the one it will keep.
#include <fmt/format.h>

#include <cstdio>
#include <string_view>

#include "daemon/demo_day.hpp"

namespace {

constexpr int kExUsage = 64;  // sysexits.h EX_USAGE

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: shackd <command> [options]\n"
             "\n"
             "commands:\n"
             "  demo-day     run the rules over a built-in simulated day and print every decision\n"
             "\n"
             "options:\n"
             "  --help       show this help\n"
             "  --version    print the version\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return kExUsage;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    fmt::print("shackd {}\n", SHACKD_VERSION);
    return 0;
  }
  if (cmd == "demo-day") {
    if (argc > 2) {
      const std::string_view arg = argv[2];
      if (arg == "--help") {
        fmt::print("usage: shackd demo-day\n  Runs the Solar Shack defaults over a simulated day; actuates nothing.\n");
        return 0;
      }
      fmt::print(stderr, "shackd demo-day: unknown argument '{}' (it takes none; see --help)\n", arg);
      return kExUsage;
    }
    shackd::run_demo_day(stdout);
    return 0;
  }
  fmt::print(stderr, "shackd: unknown command '{}'\n", cmd);
  usage(stderr);
  return kExUsage;
}

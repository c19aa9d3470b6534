#include "daemon/system/signals.hpp"

#include <csignal>

namespace shackd::signals {

std::atomic<bool> reload{false};
std::atomic<bool> stop{false};

namespace {
void on_hup(int) { reload = true; }
void on_term(int) { stop = true; }
}  // namespace

void install() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a signal interrupts the loop's sleep
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, nullptr);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, nullptr);
  // Their default action ends the process without a clean stop (relays left as they were, the
  // store's queue lost); shackd gives them no meaning, so a stray `kill -USR1` does nothing.
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGUSR2, &sa, nullptr);
}

}  // namespace shackd::signals

// The metrics endpoint against the loop: a cycle's time with metrics off, with the endpoint on and
// nobody scraping, and with two clients scraping as fast as they can (keep-alive, no pause), in
// one run, as ratios to the first (issue 30: "the cycle's timing is unchanged with a scraper
// hammering it"). The site is the in-process one of the tests (tests/support/fake_site.hpp): the
// daemon's whole cycle with a real SQLite file, a scripted GX and an in-process broker.
// Usage: metrics_scrape [CYCLES]   (default 1000 per run, 5 ms apart)
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_site.hpp"

namespace {

struct Run {
  double median_us = 0, p99_us = 0, max_us = 0;
  std::uint64_t scrapes = 0;
};

Run run(const std::string& extra, int cycles, int scrapers) {
  test::FakeSite site(extra);
  if (site.daemon->start()) throw std::runtime_error("the site did not start");
  site.cycles(3);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> scrapes{0};
  std::vector<std::thread> clients;
  const auto port = site.daemon->metrics_port();
  for (int i = 0; i < scrapers && port; ++i) {
    clients.emplace_back([&, p = *port] {
      httplib::Client c("127.0.0.1", p);
      c.set_keep_alive(true);
      while (!stop) {
        if (auto r = c.Get("/metrics"); r && r->status == 200) ++scrapes;
      }
    });
  }
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(cycles));
  for (int i = 0; i < cycles; ++i) {
    site.clock.step(std::chrono::milliseconds(1000));
    const auto t0 = std::chrono::steady_clock::now();
    site.daemon->cycle();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    // Between cycles the loop sleeps, as it does between ticks: the scrapers have the time a real
    // site's would (a bench's pause, not a test's).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : clients) t.join();
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100], us.back(), scrapes.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::max(100, std::atoi(argv[1])) : 1000;
  // A first run, not counted: the process's first cycles pay for page faults, caches and the
  // CPU's clock ramping up, which made "off" (run first) look 2.5 times slower than "on" on a
  // quiet machine (2026-11-26).
  (void)run("", cycles, 0);
  const Run off = run("", cycles, 0);
  const Run idle = run("metrics:\n  listen: 127.0.0.1:0\n", cycles, 0);
  const Run hammered = run("metrics:\n  listen: 127.0.0.1:0\n", cycles, 2);
  fmt::print("metrics_scrape: {} cycles per run, {} core(s)\n", cycles, std::thread::hardware_concurrency());
  fmt::print("  {:<34} {:>10} {:>10} {:>10} {:>8}\n", "run", "median us", "p99 us", "max us", "ratio");
  const auto line = [&](const char* name, const Run& r) {
    fmt::print("  {:<34} {:>10.1f} {:>10.1f} {:>10.1f} {:>8.2f}\n", name, r.median_us, r.p99_us, r.max_us,
               r.median_us / off.median_us);
  };
  line("metrics off", off);
  line("endpoint on, no scraper", idle);
  line("endpoint on, 2 clients hammering", hammered);
  fmt::print("  scrapes answered while hammering: {} ({:.2f} per cycle)\n", hammered.scrapes,
             static_cast<double>(hammered.scrapes) / cycles);
  return 0;
}

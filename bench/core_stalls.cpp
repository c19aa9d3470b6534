// The safety core against each stall of issue 44, side by side in one run: a cycle's time (p50,
// p99, max) and the shutdown OFF's latency (from the start of the cycle whose poll sees the
// crossing to the relay command handed to the link), with nothing wrong, then with
//   store     every write, sync and truncation of the database taking 3 s (a tired SD card;
//             tests/support/gated_vfs.hpp),
//   broker    a broker that takes every message and acknowledges none,
//   miner     the primary's LuxOS API answering a byte a second (the real worker over TCP),
//   scrapers  20 clients scraping the metrics endpoint as fast as they can,
//   all       all four at once,
// and nothing wrong again last (the machine's drift over the run). The site is the tests'
// in-process one (tests/support/fake_site.hpp): the daemon's whole cycle on a stepped clock, a
// real SQLite file, a scripted GX and an in-process broker; nothing waits for the recorder. The
// publisher renders and sends the state, Home Assistant and the uplink on its own thread, as in
// production (daemon/publish/publisher.hpp; a test's FakeSite sends them before cycle() returns):
// the loop's thread only copies the cycle's values. `--inline-publish` measures it the tests' way.
// Usage: core_stalls [CYCLES] [--inline-publish]   (default 600 per case, 5 ms apart, a crossing every 60)
#include <fmt/format.h>
#include <httplib.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/dripping_miner.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/gated_vfs.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double thread_cpu_us() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
}

struct Stalls {
  bool store = false, broker = false, miner = false, scrapers = false;
};

struct Result {
  std::string name;
  std::vector<double> cycle_us, off_us;
  double cpu_us_per_cycle = 0;
  long scrapes = 0;
  int unpinged = 0;
  std::uint64_t views_coalesced = 0;  // cycle views the publisher's thread never sent (a newer one won)
};

Result run(const std::string& name, Stalls st, int cycles, test::GatedVfs& card, bool publish_thread) {
  Result r{name, {}, {}, 0, 0, 0, 0};
  test::DrippingMiner miner;
  std::string extra;
  if (st.miner) {
    extra += fmt::format("miners:\n  primary_s21: {{kind: luxos, host: 127.0.0.1, port: {}, timeout_ms: 2000}}\n",
                         miner.port());
  }
  if (st.scrapers) extra += "metrics:\n  listen: 127.0.0.1:0\n";
  test::FakeSite s(extra, [](const drivers::miners::MinerConfig& c) { return shackd::make_miner_worker(c); },
                   test::kFakeSiteConfig, false, publish_thread);
  s.settle = false;
  Clock::time_point off_at{};
  s.broker.on_publish = [&](const test::FakeBroker::Message& m) {
    if (m.topic == "cmnd/primary_s21/POWER1" && m.payload == "OFF") off_at = Clock::now();
  };
  if (s.daemon->start()) {
    fmt::print(stderr, "core_stalls: the site did not start\n");
    std::exit(1);
  }
  s.cycles(50);
  card.set_delay(st.store ? std::chrono::milliseconds(3000) : std::chrono::milliseconds(0));
  s.broker.acknowledges = !st.broker;
  std::atomic<bool> scraping{st.scrapers};
  std::atomic<long> scrapes{0};
  std::vector<std::thread> scrapers;
  if (st.scrapers) {
    for (int i = 0; i < 20; ++i) {
      scrapers.emplace_back([&, port = *s.daemon->metrics().port()] {
        httplib::Client c("127.0.0.1", port);
        c.set_keep_alive(true);
        c.set_read_timeout(2, 0);
        while (scraping) {
          if (auto x = c.Get("/metrics"); x && x->status == 200) ++scrapes;
        }
      });
    }
  }
  const double cpu0 = thread_cpu_us();
  const auto start = Clock::now();
  for (int i = 0; i < cycles; ++i) {
    // Cycles 5 ms apart in real time (the stepped clock says 1 s each): a stall overlaps hundreds.
    std::this_thread::sleep_until(start + i * std::chrono::milliseconds(5));
    const bool crossing = i % 60 == 30;
    if (i % 60 == 0) s.set_battery(54.0);
    if (crossing) s.set_battery(43.0);
    off_at = {};
    const int pings = s.pings();
    const auto t = Clock::now();
    s.cycles(1);
    r.cycle_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (crossing && off_at != Clock::time_point{}) {
      r.off_us.push_back(std::chrono::duration<double, std::micro>(off_at - t).count());
    }
    r.unpinged += s.pings() == pings;
  }
  r.cpu_us_per_cycle = (thread_cpu_us() - cpu0) / cycles;
  r.views_coalesced = s.daemon->loop().stats().publish_coalesced;
  scraping = false;
  for (auto& t : scrapers) t.join();
  r.scrapes = scrapes;
  card.set_delay(std::chrono::milliseconds(0));
  s.broker.acknowledges = true;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int cycles = 600;
  bool publish_thread = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--inline-publish") publish_thread = false;
    else cycles = std::stoi(a);
  }
  // Never destroyed: a recorder left writing (its stop gives up after 2 s) may still be in it.
  static auto* card = new test::GatedVfs(std::chrono::milliseconds(10000));
  const std::vector<std::pair<std::string, Stalls>> cases = {
      {"nothing wrong", {}},
      {"store: 3 s a write", {true, false, false, false}},
      {"broker: no PUBACK", {false, true, false, false}},
      {"miner: a byte a second", {false, false, true, false}},
      {"20 scrapers", {false, false, false, true}},
      {"all at once", {true, true, true, true}},
      {"nothing wrong, again", {}},
  };
  std::vector<Result> results;
  for (const auto& [name, st] : cases) results.push_back(run(name, st, cycles, *card, publish_thread));
  fmt::print("core_stalls: {} cycles a case, a shutdown crossing every 60; times in µs (wall, the loop's thread); "
             "publishing {}\n",
             cycles, publish_thread ? "on the publisher's thread" : "inline, on the loop's thread");
  fmt::print("| case | cycle p50 | cycle p99 | cycle max | OFF latency median | OFF max | CPU per cycle | cycles unpinged |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    fmt::print("| {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {} |\n", r.name, pct(r.cycle_us, 0.5),
               pct(r.cycle_us, 0.99), pct(r.cycle_us, 1.0), pct(r.off_us, 0.5), pct(r.off_us, 1.0), r.cpu_us_per_cycle,
               r.unpinged);
  }
  for (const auto& r : results) {
    if (r.scrapes > 0) fmt::print("  {}: {} scrapes answered\n", r.name, r.scrapes);
    if (r.views_coalesced > 0) fmt::print("  {}: {} cycle view(s) coalesced by the publisher\n", r.name, r.views_coalesced);
  }
  return 0;
}

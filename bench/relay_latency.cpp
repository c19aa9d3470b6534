// A relay command's latency (issue 57: "relay-command latency while a 1,000-message discovery
// burst or an outbox drain is under way, unchanged from without it"): from the relay lane's
// publish (drivers/mqtt/client.hpp) to a subscriber's receipt, through a real Mosquitto on
// loopback, in one run, side by side:
//   idle       nothing else on the link,
//   discovery  a 1,000-message burst on the bulk lane (QoS 1, 600 bytes each: Home Assistant's
//              discovery at a connect), the command sent once 50 of them are handed over,
//   outbox     1,000 events drained through publish_confirmed (QoS 1, 300 bytes, each followed to
//              its PUBACK, as daemon/events/outbox.cpp does), the command sent likewise,
//   no lanes   the same burst handed to the library at once (the relay lane's publish for every
//              message: the path before issue 57), for comparison,
// then idle again (the machine's drift). Printed: each case's p50, p95 and max in ms and the
// ratio of its p50 and p95 to the first idle run's. Both clients are in this process, so one
// monotonic clock times both ends.
// Usage: relay_latency [TRIALS]   (default 40 a case)
#include <fmt/format.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "drivers/mqtt/client.hpp"

namespace {

using namespace std::chrono_literals;
using drivers::mqtt::Client;
using drivers::mqtt::ClientConfig;
using drivers::mqtt::Event;
using Clock = std::chrono::steady_clock;

constexpr int kBurst = 1000;
constexpr int kSendAfter = 50;  // bulk messages handed over before the command goes

// Mosquitto on a free loopback port, anonymous, no persistence; stopped with the bench.
struct Mosquitto {
  int port = 0;
  pid_t pid = -1;
  std::string conf;
  Mosquitto() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    if (fd >= 0) close(fd);
    conf = fmt::format("/tmp/relay_latency_{}.conf", getpid());
    std::ofstream(conf) << fmt::format("listener {} 127.0.0.1\nallow_anonymous true\npersistence false\n", port);
    std::string bin = "/usr/sbin/mosquitto", c = "-c";
    char* args[] = {bin.data(), c.data(), conf.data(), nullptr};
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    if (port == 0 || posix_spawn(&pid, bin.c_str(), &quiet, nullptr, args, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&quiet);
  }
  ~Mosquitto() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    std::remove(conf.c_str());
  }
  std::string uri() const { return fmt::format("tcp://127.0.0.1:{}", port); }
};

ClientConfig config(const std::string& uri, const std::string& id) {
  ClientConfig c;
  c.uri = uri;
  c.client_id = id;
  c.keepalive = 5s;
  c.status_topic = "";
  return c;
}

bool until(const std::function<bool()>& done, std::chrono::milliseconds bound) {
  const auto deadline = Clock::now() + bound;
  while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return done();
}

enum class Load { idle, discovery, outbox, no_lanes };

// The burst of `load` on `link`'s thread of its own; `handed` counts what it handed over.
void burst(Client& link, Load load, std::atomic<int>& handed, const std::atomic<bool>& quit, int trial) {
  const std::string discovery(600, 'd'), event(300, 'e');
  std::deque<std::uint64_t> tickets;
  for (int i = 0; i < kBurst && !quit; ++i) {
    const std::string topic = fmt::format("bulk/{}/{}", trial, i);
    switch (load) {
      case Load::idle: return;
      case Load::discovery:
        if (!link.publish_bulk(topic, discovery, 1, false, 30000ms)) return;
        break;
      case Load::no_lanes:
        if (!link.publish(topic, discovery, 1, false)) return;
        break;
      case Load::outbox: {
        std::uint64_t t = 0;
        while (!quit && (t = link.publish_confirmed(topic, event, false)) == 0) std::this_thread::sleep_for(1ms);
        if (t == 0) return;
        tickets.push_back(t);
        while (!tickets.empty() && link.delivered(tickets.front())) {
          link.forget(tickets.front());
          tickets.pop_front();
        }
        break;
      }
    }
    ++handed;
  }
  for (const auto t : tickets) link.forget(t);
}

struct Figures {
  double p50_ms = 0, p95_ms = 0, max_ms = 0;
  int lost = 0;
};

double at(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

Figures run(Client& shackd, Client& spy, Load load, int trials) {
  std::vector<double> ms;
  Figures f;
  for (int trial = 0; trial < trials; ++trial) {
    std::atomic<int> handed{0};
    std::atomic<bool> quit{false};
    std::thread t([&] { burst(shackd, load, handed, quit, trial); });
    if (load != Load::idle) until([&] { return handed >= kSendAfter; }, 10000ms);
    const std::string topic = fmt::format("cmnd/primary/POWER1/{}", trial);
    const auto sent = Clock::now();
    bool got = false;
    if (shackd.publish(topic, "OFF", 1, false)) {
      const auto deadline = sent + 10s;
      while (!got && Clock::now() < deadline) {
        if (const auto e = spy.poll(100ms); e && e->kind == Event::Kind::message && e->topic == topic) {
          ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
          got = true;
        }
      }
    }
    if (!got) ++f.lost;
    quit = true;
    t.join();
    // The burst drained before the next trial: each starts from an empty queue.
    until([&] { return shackd.bulk_in_window() == 0; }, 30000ms);
    std::this_thread::sleep_for(load == Load::idle ? 5ms : 200ms);
    while (spy.poll(0ms)) {
    }
  }
  if (!ms.empty()) {
    f.p50_ms = at(ms, 0.5);
    f.p95_ms = at(ms, 0.95);
    f.max_ms = *std::max_element(ms.begin(), ms.end());
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::max(5, std::atoi(argv[1])) : 40;
  Mosquitto broker;
  if (broker.pid < 0) {
    fmt::print(stderr, "relay_latency: mosquitto could not be started (scripts/setup.sh installs it)\n");
    return 1;
  }
  Client spy(config(broker.uri(), "spy"));
  spy.subscribe("cmnd/#");
  spy.start();
  Client shackd(config(broker.uri(), "shackd-bench"));
  shackd.start();
  if (!until([&] { return spy.subscribed() && shackd.connected(); }, 10000ms)) {
    fmt::print(stderr, "relay_latency: the broker on loopback did not answer\n");
    return 1;
  }
  struct Case {
    const char* name;
    Load load;
  };
  const Case cases[] = {{"idle", Load::idle},
                        {"discovery (bulk lane)", Load::discovery},
                        {"outbox (confirmed)", Load::outbox},
                        {"no lanes (before)", Load::no_lanes},
                        {"idle again", Load::idle}};
  fmt::print("relay command latency, publish to receipt through Mosquitto on loopback; {} trials a case, "
             "the command sent once {} of {} bulk messages were handed over\n",
             trials, kSendAfter, kBurst);
  fmt::print("{:<24} {:>9} {:>9} {:>9} {:>6} {:>10} {:>10}\n", "case", "p50 ms", "p95 ms", "max ms", "lost", "p50/idle",
             "p95/idle");
  Figures idle;
  int lost = 0;
  for (const auto& c : cases) {
    const Figures f = run(shackd, spy, c.load, trials);
    if (c.load == Load::idle && idle.p50_ms == 0) idle = f;
    lost += f.lost;
    fmt::print("{:<24} {:>9.2f} {:>9.2f} {:>9.2f} {:>6} {:>10.2f} {:>10.2f}\n", c.name, f.p50_ms, f.p95_ms, f.max_ms, f.lost,
               idle.p50_ms > 0 ? f.p50_ms / idle.p50_ms : 0, idle.p95_ms > 0 ? f.p95_ms / idle.p95_ms : 0);
  }
  shackd.shutdown(500ms);
  spy.shutdown(500ms);
  return lost == 0 ? 0 : 1;
}

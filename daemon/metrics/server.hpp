#pragma once
// The metrics endpoint (config `metrics:`): GET /metrics over HTTP, served by cpp-httplib (Debian's
// libcpp-httplib-dev) on threads of its own at a lower CPU priority than the loop. The loop hands
// over a cycle's frame with publish(), which only swaps a pointer under a lock: no scrape, however
// slow or however many, can make a cycle wait for more than that.
//
// The loop fills frames only while somebody scrapes (daemon/loop/daemon_metrics.cpp): asked()
// counts the scrapes that came, and idle() says the loop has stopped. A scrape that finds the loop
// idle, or no frame yet, asks and waits for the next cycle's frame (at most `fresh_wait`), so that
// it is never served figures from before it came; while the loop fills frames, a scrape is
// answered at once with the newest, at most a cycle old.
//
// Bounded: two workers, a queue of eight accepted connections (the listener waits while it is
// full, so further clients wait in the kernel's backlog), 2 s to read a request and to write a
// reply, 2 s for a kept-alive connection's next request, small requests only. An optional bearer token (RFC 6750) is compared in constant time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/metrics/frame.hpp"

namespace shackd::metrics {

// Requests are answered one slot apart, whatever the clients: a scraper that asks as fast as it
// can (or a flood of refused requests) is held to 1 / gap a second, and the site's CPU to what
// that costs. Prometheus scrapes a target every 15 s to a minute; a pair scraping for high
// availability, a federation and a person with curl are far under 20 a second.
class RequestPacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RequestPacer(std::chrono::milliseconds gap) : gap_(gap) {}
  // When a request that came at `now` may be served (now, or the next free slot).
  Clock::time_point slot(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    next_ = std::max(next_, now);
    const auto at = next_;
    next_ += gap_;
    return at;
  }

 private:
  std::chrono::milliseconds gap_;
  std::mutex mutex_;
  Clock::time_point next_{};
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 9466;  // 0: any free port (the tests)
  std::string bearer_token;  // empty: none asked for
  // How long a scrape waits for a frame when the loop is idle: a cycle and a margin (the daemon
  // sets it from loop.interval_ms, at most 8 s, under Prometheus' default scrape_timeout of 10 s).
  std::chrono::milliseconds fresh_wait{3000};
  std::chrono::milliseconds request_gap{50};  // RequestPacer: at most 20 requests a second
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; throws std::runtime_error naming the address when it cannot.
  void start();
  // Closes the listening socket at once (the address is free again); the connections being served
  // finish in their own time, and the destructor waits for them (at most a few seconds: the
  // time-outs). The daemon calls this on its loop and destroys the server on another thread.
  void stop_listening();
  int port() const { return port_; }
  // The newest cycle's frame (the loop's thread): served until the next; never changed after.
  void publish(std::shared_ptr<const Frame> frame);
  // The loop fills no more frames until asked() changes (the loop's thread).
  void idle();
  // Scrapes that came (each asks for fresh figures); the loop compares it with what it saw.
  std::uint64_t asked() const { return asked_.load(std::memory_order_relaxed); }
  // Frames published so far.
  std::uint64_t frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  // The newest frame: the loop does not refill it (the loop's thread).
  const std::shared_ptr<const Frame>& newest() const { return published_; }
  void set_fresh_wait(std::chrono::milliseconds wait) { fresh_wait_ms_.store(wait.count(), std::memory_order_relaxed); }
  // Scrapes answered, and requests refused for a missing or wrong token.
  std::uint64_t scrapes() const { return scrapes_.load(); }
  std::uint64_t refused() const { return refused_.load(); }

 private:
  struct Http;
  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<Http> http_;
  bool stopped_ = false;  // stop_listening() ran (the loop's thread, then the retiring one: sequenced)
  std::thread thread_;
  // The handler's wait for a fresh frame; `frame` is null when there is none to serve.
  std::shared_ptr<const Frame> frame_for_scrape();
  RequestPacer pacer_;
  mutable std::mutex mutex_;
  std::condition_variable fresh_;
  std::shared_ptr<const Frame> latest_;  // under mutex_
  bool filling_ = false;                 // under mutex_: the loop fills a frame each cycle
  bool stopped_waits_ = false;           // under mutex_: stopping, no scrape waits for a frame
  std::uint64_t frames_ = 0;             // under mutex_: published so far
  std::shared_ptr<const Frame> published_;  // the loop's own copy of latest_ (the loop's thread)
  std::atomic<std::int64_t> fresh_wait_ms_;
  std::atomic<std::uint64_t> scrapes_{0}, refused_{0}, asked_{0};
};

// A token file's first line, without the line end and surrounding blanks; nullopt when it cannot
// be read.
std::optional<std::string> read_token(const std::string& path);

// host:port, [v6]:port; the error names the rule broken, or is empty.
std::string parse_listen(const std::string& text, std::string& host, int& port);

}  // namespace shackd::metrics

#pragma once
// The metrics endpoint (config `metrics:`): GET /metrics over HTTP/1.1, served by a small server
// of our own on one thread at a lower CPU priority than the loop. The loop hands over a cycle's
// frame with publish(), which only swaps a pointer under a lock: no scrape, however slow or
// however many, can make a cycle wait for more than that.
//
// The loop fills frames only while somebody scrapes (daemon/metrics/exporter.hpp): asked()
// counts the scrapes that came, and idle() says the loop has stopped. A scrape that finds the loop
// idle, or no frame yet, asks and waits for the next cycle's frame (at most `fresh_wait`), so that
// it is never served figures from before it came; while the loop fills frames, a scrape is
// answered at once with the newest, at most a cycle old.
//
// HTTP itself is GNU libmicrohttpd's (issue 58; Debian 12's 0.9.75, Debian 13's 1.0), which sets
// at run time what cpp-httplib (Debian's, compiled: its CPPHTTPLIB_* limits are the library's
// build defaults, issue 48) could not: the connections it holds, the memory of each, its time-out.
// It runs in its "external" mode, driven by one thread of ours (epoll), so that what it does not
// do is done on the same thread, with no lock around its connections:
// - a connection reaches the library when its first bytes come (TCP_DEFER_ACCEPT, up to the
//   request's time-out): connections that say nothing wait in the kernel, not in the slots below;
//   those the kernel lets through all the same (made on a SYN cookie in a flood) wait in a lobby
//   of ours holding a socket each, up to 256, until they speak (daemon/metrics/lobby.hpp);
// - at most kMaxConnections at once, each parsed within a memory pool of kConnectionMemory bytes
//   (a request head that does not fit, 100 MB of `X: y` lines among them, is answered 431 and
//   closed); past kMaxConnections the one that has been reading its request the longest, one with
//   nothing waiting unread first, is closed (shutdown(2) of its socket, which the library then
//   closes), so connections that say nothing cannot keep scrapes out; a request body is refused;
// - a deadline per request, not per read (the library's time-out is per read, so a slowloris
//   would keep its connection): its whole head within `request_timeout` of the connection (or of
//   the last reply, kept alive), its reply written within as long, enforced here;
// - Range is not honoured (the library leaves Range to the application): the reply is whole,
//   once, with Accept-Ranges: none (RFC 9110 §14.3);
// - a request paced (RequestPacer) or waiting for a frame is suspended (MHD_suspend_connection),
//   never waited for on the thread; one thread, never blocked but in poll(2): stop_listening() and
//   the destructor are answered within milliseconds, whatever the clients do.
// An optional bearer token (RFC 6750) is compared in constant time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/config/metrics_listen.hpp"  // read_token, parse_listen
#include "daemon/metrics/frame.hpp"

struct MHD_Daemon;

namespace shackd::metrics {

class Lobby;  // who has not spoken yet (lobby.hpp)

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
  // A request's head from its connection (or the last reply on a kept-alive one), and its reply.
  std::chrono::milliseconds request_timeout{2000};
};

// Connections served at once (a scraper or two, a federation, a person with curl).
inline constexpr std::size_t kMaxConnections = 16;
// libmicrohttpd's memory pool per connection (MHD_OPTION_CONNECTION_MEMORY_LIMIT): the request's
// head as read, its parsed headers and the reply's head; the reply's body is apart (one per scrape).
inline constexpr std::size_t kConnectionMemory = 16 * 1024;

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // out of line: Lobby is complete there
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; throws std::runtime_error naming the address when it cannot.
  void start();
  // Closes the listening socket (the address is free again when it returns) and answers any
  // scrape waiting for a frame with what there is; connections being served finish, bounded by
  // their deadlines, and the destructor closes what is left at once.
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
  // Scrapes answered, requests refused for a missing or wrong token, requests refused as malformed
  // or over a bound (each answered with its status and closed), connections closed at their
  // deadline or to make room.
  std::uint64_t scrapes() const { return scrapes_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  std::uint64_t rejected() const { return rejected_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  const std::string& bearer_token() const { return options_.bearer_token; }

 private:
  struct Conn;     // a TCP connection (libmicrohttpd's socket context)
  struct Request;  // a request on it (libmicrohttpd's request context)
  struct Mhd;      // libmicrohttpd's callbacks, which reach the members below
  void run();
  void wake();
  // The request's next step (the access handler): 1 (MHD_YES) or 0 (MHD_NO: close).
  int answer(Request& r);
  int respond(Request& r, unsigned status, std::string_view type, std::string body);
  bool authorized(Request& r);       // counts a refusal
  int answer_metrics(Request& r);    // paced, authorized, and the frame there is to serve
  void suspend(Request& r);
  void cut(Conn& c);                 // shutdown(2): the library closes it at its next turn
  std::size_t room() const;          // connections the library can take now
  std::shared_ptr<const Frame> take_frame();  // the newest, marked as read (under mutex_)

  ServerOptions options_;
  int port_ = 0;
  int listen_fd_ = -1;  // the I/O thread's while it listens (stop_listening waits for its close)
  int wake_fd_ = -1;    // an eventfd: publish(), stop_listening() and the destructor wake the thread
  struct MHD_Daemon* mhd_ = nullptr;  // driven by the I/O thread alone
  std::unique_ptr<Lobby> lobby_;      // the I/O thread's: the listening socket, and who has not spoken
  std::vector<Conn*> conns_;          // the I/O thread's: every connection the library holds
  std::vector<Request*> suspended_;   // the I/O thread's: paced or waiting for a frame
  std::thread thread_;
  RequestPacer pacer_;
  mutable std::mutex mutex_;
  std::condition_variable listening_closed_;
  bool close_listener_ = false;  // under mutex_: stop_listening() asked
  bool listener_closed_ = false; // under mutex_: the I/O thread did it
  bool stopping_ = false;        // under mutex_: the destructor asked
  std::shared_ptr<const Frame> latest_;  // under mutex_
  bool filling_ = false;                 // under mutex_: the loop fills a frame each cycle
  bool stopped_waits_ = false;           // under mutex_: stopping, no scrape waits for a frame
  std::uint64_t frames_ = 0;             // under mutex_: published so far
  std::shared_ptr<const Frame> published_;  // the loop's own copy of latest_ (the loop's thread)
  std::atomic<int> waiting_{0};  // scrapes waiting for a frame: publish() wakes the thread only then
  std::atomic<std::int64_t> fresh_wait_ms_;
  std::atomic<std::uint64_t> scrapes_{0}, refused_{0}, asked_{0}, rejected_{0}, dropped_{0};
};

}  // namespace shackd::metrics

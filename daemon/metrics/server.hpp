#pragma once
// The metrics endpoint (config `metrics:`): GET /metrics over HTTP, served by cpp-httplib (Debian's
// libcpp-httplib-dev) on threads of its own at a lower CPU priority than the loop. The loop hands
// over each cycle's families with publish(), which only swaps a pointer under a lock: no scrape,
// however slow or however many, can make a cycle wait for more than that.
//
// Bounded: two workers, a queue of eight accepted connections (the listener waits while it is
// full, so further clients wait in the kernel's backlog), 2 s to read a request and to write a
// reply, 2 s for a kept-alive connection's next request, small requests only. An optional bearer token (RFC 6750) is compared in constant time.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/metrics/family.hpp"

namespace shackd::metrics {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 9466;  // 0: any free port (the tests)
  std::string bearer_token;  // empty: none asked for
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
  // The newest cycle's families (the loop's thread).
  void publish(std::vector<Family> families);
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
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<Family>> latest_;
  std::atomic<std::uint64_t> scrapes_{0}, refused_{0};
};

// A token file's first line, without the line end and surrounding blanks; nullopt when it cannot
// be read.
std::optional<std::string> read_token(const std::string& path);

// host:port, [v6]:port; the error names the rule broken, or is empty.
std::string parse_listen(const std::string& text, std::string& host, int& port);

}  // namespace shackd::metrics

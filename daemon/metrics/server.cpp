#include "daemon/metrics/server.hpp"

#include <httplib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "daemon/metrics/exposition.hpp"
#include "daemon/metrics/process.hpp"

namespace shackd::metrics {

namespace {

// The server's threads yield to the loop: nice 10 (a thread's own nice value on Linux, setpriority(2)).
void lower_priority() { ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10); }

// cpp-httplib's enqueue returns void up to 0.13 (Debian 12's 0.11) and bool since (Debian 13's 0.18).
using EnqueueResult = decltype(std::declval<httplib::TaskQueue&>().enqueue(std::function<void()>{}));

// A fixed pool with a bounded queue. cpp-httplib's own ThreadPool queues without bound in 0.11:
// a client opening connections faster than they are served would grow it without limit. Here
// the listener waits while the queue is full, and further clients wait in the kernel's backlog.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t workers, std::size_t max_queued) : max_(max_queued) {
    for (std::size_t i = 0; i < workers; ++i) {
      threads_.emplace_back([this] {
        lower_priority();
        for (;;) {
          std::function<void()> task;
          {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing left
            task = std::move(queue_.front());
            queue_.pop_front();
          }
          space_.notify_one();
          task();
        }
      });
    }
  }
  ~BoundedPool() override { shutdown(); }

  EnqueueResult enqueue(std::function<void()> fn) override {
    {
      std::unique_lock lock(mutex_);
      space_.wait(lock, [&] { return stop_ || queue_.size() < max_; });
      if (!stop_) {
        queue_.push_back(std::move(fn));
        fn = nullptr;
      }
    }
    ready_.notify_one();
    if (fn) fn();  // stopping: serve (and close) it here rather than leak its socket
    return static_cast<EnqueueResult>(true);  // void in 0.11: a void expression, allowed
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (stop_ && threads_.empty()) return;
      stop_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

 private:
  std::size_t max_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

// Constant-time comparison: a wrong token takes as long whatever its first wrong byte.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

// A scrape's hold on a frame, let go when the rendering is over (an exception included).
struct ReadDone {
  explicit ReadDone(const Frame& f) : frame(f) {}
  const Frame& frame;
  ReadDone(const ReadDone&) = delete;
  ReadDone& operator=(const ReadDone&) = delete;
  ~ReadDone() { frame.readers.fetch_sub(1, std::memory_order_release); }
};

constexpr const char* kIndex =
    "shackd: the site's metrics are at /metrics (Prometheus text format, or OpenMetrics on request)\n";

}  // namespace

struct Server::Http {
  httplib::Server server;
};

Server::Server(ServerOptions options)
    : options_(std::move(options)), pacer_(options_.request_gap), fresh_wait_ms_(options_.fresh_wait.count()) {}

Server::~Server() {
  stop_listening();
  if (thread_.joinable()) thread_.join();
}

// Once only: cpp-httplib's stop() asserts that the listening socket is still there while its
// loop runs, which a second call, before that loop has ended, would find closed.
void Server::stop_listening() {
  if (http_ && !stopped_) http_->server.stop();
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    stopped_waits_ = true;  // a scrape waiting for a frame is answered now, not after its wait
  }
  fresh_.notify_all();
}

void Server::publish(std::shared_ptr<const Frame> frame) {
  published_ = frame;
  {
    std::lock_guard lock(mutex_);
    latest_.swap(frame);
    filling_ = true;
    ++frames_;
  }
  fresh_.notify_all();
  // The frame replaced is the loop's to fill again once its readers are done (FramePool).
}

void Server::idle() {
  std::lock_guard lock(mutex_);
  filling_ = false;
}

std::shared_ptr<const Frame> Server::frame_for_scrape() {
  asked_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mutex_);
  if (!filling_ || !latest_) {
    // The loop is idle (or has not finished a cycle): the next cycle fills a frame for us.
    const auto seen = frames_;
    fresh_.wait_for(lock, std::chrono::milliseconds(fresh_wait_ms_.load(std::memory_order_relaxed)),
                    [&] { return frames_ != seen || stopped_waits_; });
  }
  if (latest_) latest_->readers.fetch_add(1, std::memory_order_relaxed);  // the loop reads it after our lock
  return latest_;
}

void Server::start() {
  http_ = std::make_unique<Http>();
  auto& s = http_->server;
  s.new_task_queue = [] { return new BoundedPool(2, 8); };
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which a second process could
  // bind the same port and take a share of the scrapes instead of being told it is in use.
  s.set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Without it a reply written in two parts (headers, then the body) waits for the client's
  // delayed ACK: 40 ms per scrape on Linux (Nagle's algorithm, RFC 896, against delayed ACKs,
  // RFC 1122 4.2.3.2). Accepted connections inherit it from the listening socket.
  s.set_tcp_nodelay(true);
  // Short: a connection that says nothing holds a worker for these, and a stopping server waits
  // for its workers. A scrape's request arrives at once and its reply fits a socket's buffer.
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.set_keep_alive_max_count(20);
  s.set_keep_alive_timeout(2);
  s.set_payload_max_length(4096);
  s.set_pre_routing_handler([this](const httplib::Request& q, httplib::Response& res) {
    // Every request, a refused one too, waits for its slot (at most two wait: two workers).
    std::this_thread::sleep_until(pacer_.slot(RequestPacer::Clock::now()));
    if (options_.bearer_token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string given = q.get_header_value("Authorization");
    if (given.rfind("Bearer ", 0) == 0 && same_secret(given.substr(7), options_.bearer_token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    ++refused_;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"shackd\"");
    res.set_content("a bearer token is needed (metrics.token_file)\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.Get("/metrics", [this](const httplib::Request& q, httplib::Response& res) {
    const auto frame = frame_for_scrape();
    if (!frame) {
      res.status = 503;
      res.set_content("shackd has not finished its first cycle yet\n", "text/plain");
      return;
    }
    const Format f = negotiate(q.get_header_value("Accept"));
    std::string text;
    {
      // Done with the frame, however the rendering ends: the loop may fill it again (it reads the
      // count with acquire).
      const ReadDone done{*frame};
      render_families(text, frame->families, f);
    }
    auto own = process_families();
    own.push_back(Family{"shackd_metrics_scrapes", "Scrapes answered by this endpoint", Type::counter, {}}
                      .add(static_cast<double>(++scrapes_)));
    render_families(text, own, f);
    if (f == Format::openmetrics) text += kOpenMetricsEnd;
    res.set_content(text, std::string(f == Format::openmetrics ? kOpenMetricsType : kPrometheusTextType));
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kIndex, "text/plain"); });
  port_ = options_.port == 0 ? s.bind_to_any_port(options_.host) : (s.bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ <= 0) {
    throw std::runtime_error("metrics.listen: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             " (in use, or not an address of this machine)");
  }
  thread_ = std::thread([this] {
    lower_priority();
    http_->server.listen_after_bind();
  });
  // A stop() before its loop runs would be lost (cpp-httplib stops only a running server) and
  // the destructor's join would hang: back only once it runs, 5 s at most.
  for (int i = 0; i < 5000 && !http_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http_->server.is_running()) throw std::runtime_error("metrics: the HTTP server did not start");
}

std::optional<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return std::string();
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}

std::string parse_listen(const std::string& text, std::string& host, int& port) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return "an IPv6 address is written [address]:port";
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return "must be address:port, for example 127.0.0.1:9466";
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string::npos) return "an IPv6 address is written [address]:port";
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return "the port must be a number from 0 to 65535";
  }
  const int n = std::stoi(p);
  if (n > 65535) return "the port must be a number from 0 to 65535";
  host = h;
  port = n;
  return "";
}

}  // namespace shackd::metrics

#include "daemon/metrics/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "daemon/metrics/exposition.hpp"
#include "daemon/metrics/http_request.hpp"
#include "daemon/metrics/process.hpp"

namespace shackd::metrics {

namespace {

using Clock = std::chrono::steady_clock;

// The server's thread yields to the loop: nice 10 (a thread's own nice value on Linux, setpriority(2)).
void lower_priority() { ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10); }

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

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

int poll_ms(Clock::time_point now, Clock::time_point until) {
  if (until <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::min<long long>(ms, 60000));
}

}  // namespace

// One client connection, as the I/O thread moves it along.
struct Server::Conn {
  enum class State { reading, paced, waiting_frame, writing };
  int fd = -1;
  State state = State::reading;
  std::string in;   // the request head so far (at most kMaxRequestHead + what one recv adds)
  std::string out;  // the reply being written
  std::size_t sent = 0;
  Clock::time_point accepted{};
  Clock::time_point deadline{};   // of what it does now: its request's head, or its reply
  Clock::time_point slot{};       // paced: served from then
  Clock::time_point wait_until{}; // waiting_frame: answered with what there is from then
  std::uint64_t frames_seen = 0;  // waiting_frame: the frame count it waits past
  HttpRequest request;
  bool keep = false;  // keep the connection after this reply
  bool gone = false;  // the client closed or its socket failed
  int served = 0;     // replies on this connection
};

Server::Server(ServerOptions options)
    : options_(std::move(options)), pacer_(options_.request_gap), fresh_wait_ms_(options_.fresh_wait.count()) {}

Server::~Server() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      stopped_waits_ = true;
    }
    wake();
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Server::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void Server::stop_listening() {
  if (!thread_.joinable()) return;
  std::unique_lock lock(mutex_);
  if (listener_closed_) return;
  close_listener_ = true;
  stopped_waits_ = true;  // a scrape waiting for a frame is answered now, not after its wait
  lock.unlock();
  wake();
  lock.lock();
  // The I/O thread never blocks but in poll(2), which the wake ends: milliseconds. Bounded all the
  // same, so a reload can never hang on it.
  listening_closed_.wait_for(lock, std::chrono::seconds(2), [&] { return listener_closed_; });
}

void Server::publish(std::shared_ptr<const Frame> frame) {
  published_ = frame;
  {
    std::lock_guard lock(mutex_);
    latest_.swap(frame);
    filling_ = true;
    ++frames_;
  }
  if (waiting_.load(std::memory_order_relaxed) > 0) wake();
  // The frame replaced is the loop's to fill again once its readers are done (FramePool).
}

void Server::idle() {
  std::lock_guard lock(mutex_);
  filling_ = false;
}

std::shared_ptr<const Frame> Server::take_frame() {
  if (latest_) latest_->readers.fetch_add(1, std::memory_order_relaxed);  // the loop reads it after our lock
  return latest_;
}

void Server::start() {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("metrics: eventfd: ") + std::strerror(errno));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &found) != 0) {
    throw std::runtime_error("metrics.listen: cannot listen on " + where + " (not an address of this machine)");
  }
  std::string why = "not an address of this machine";
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: with SO_REUSEPORT a second process could bind the same port and take a
    // share of the scrapes instead of being told it is in use.
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      listen_fd_ = fd;
    } else {
      why = errno == EADDRINUSE ? "in use" : std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw std::runtime_error("metrics.listen: cannot listen on " + where + " (" + why + ")");
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  thread_ = std::thread([this] {
    lower_priority();
    run();
  });
}

void Server::respond(Conn& c, int status, std::string_view type, std::string body, bool keep) {
  c.keep = keep && c.served + 1 < 20;  // at most 20 requests on one connection
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  head += "Content-Type: ";
  head += type;
  head += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  // Range requests are not served (RFC 9110 §14.3): the reply is whole, once.
  head += "Accept-Ranges: none\r\n";
  if (status == 401) head += "WWW-Authenticate: Bearer realm=\"shackd\"\r\n";
  if (status == 405) head += "Allow: GET, HEAD\r\n";
  head += c.keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  c.out = std::move(head);
  if (c.request.method != "HEAD") c.out += body;
  c.sent = 0;
  c.state = Conn::State::writing;
  c.deadline = Clock::now() + options_.request_timeout;
  ++c.served;
}

bool Server::authorized(const Conn& c) {
  if (options_.bearer_token.empty()) return true;
  const std::string& given = c.request.authorization;
  if (given.rfind("Bearer ", 0) == 0 && same_secret(given.substr(7), options_.bearer_token)) return true;
  ++refused_;
  return false;
}

void Server::answer_metrics(Conn& c) {
  const HttpRequest& q = c.request;
  std::shared_ptr<const Frame> frame;
  {
    std::lock_guard lock(mutex_);
    frame = take_frame();
  }
  if (!frame) {
    respond(c, 503, "text/plain", "shackd has not finished its first cycle yet\n", q.keep_alive);
    return;
  }
  const Format f = negotiate(q.accept);
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
  respond(c, 200, f == Format::openmetrics ? kOpenMetricsType : kPrometheusTextType, std::move(text), q.keep_alive);
}

// Moves one connection along as far as it can go now; false when it is to be closed.
bool Server::serve(Conn& c, Clock::time_point now) {
  if (c.gone) return false;
  for (;;) {
    switch (c.state) {
      case Conn::State::reading: {
        const HeadResult h = parse_head(c.in);
        if (h.kind == HeadResult::Kind::incomplete) {
          if (now >= c.deadline) {
            // A request that did not come whole within its time: closed (a slowloris, or a
            // kept-alive connection with nothing more to ask). Said only when it began one.
            ++dropped_;
            if (c.in.empty()) return false;
            c.request = {};
            respond(c, 408, "text/plain", "the request did not come whole in time\n", false);
            break;
          }
          return true;  // wait for more
        }
        if (h.kind == HeadResult::Kind::refused) {
          ++rejected_;
          c.request = {};
          respond(c, h.status, "text/plain", "refused: " + h.why + "\n", false);
          break;
        }
        c.request = h.request;
        c.in.erase(0, h.consumed);
        if (c.request.method != "GET" && c.request.method != "HEAD") {
          ++rejected_;
          respond(c, 405, "text/plain", "GET or HEAD only\n", false);
          break;
        }
        if (c.request.target != "/metrics" && c.request.target != "/") {
          respond(c, 404, "text/plain", "not found: the metrics are at /metrics\n", c.request.keep_alive);
          break;
        }
        // Every request, a refused one too, waits for its slot: a client asking as fast as it can
        // is held to 1 / gap a second, whatever it asks.
        c.slot = pacer_.slot(now);
        c.state = Conn::State::paced;
        break;
      }
      case Conn::State::paced: {
        if (now < c.slot) return true;
        if (!authorized(c)) {
          respond(c, 401, "text/plain", "a bearer token is needed (metrics.token_file)\n", c.request.keep_alive);
          break;
        }
        if (c.request.target == "/") {
          respond(c, 200, "text/plain", kIndex, c.request.keep_alive);
          break;
        }
        asked_.fetch_add(1, std::memory_order_relaxed);
        {
          std::lock_guard lock(mutex_);
          if ((!filling_ || !latest_) && !stopped_waits_) {
            // The loop is idle (or has not finished a cycle): the next cycle fills a frame for us.
            c.frames_seen = frames_;
            c.wait_until = now + std::chrono::milliseconds(fresh_wait_ms_.load(std::memory_order_relaxed));
            c.state = Conn::State::waiting_frame;
            waiting_.fetch_add(1, std::memory_order_relaxed);
            break;
          }
        }
        answer_metrics(c);
        break;
      }
      case Conn::State::waiting_frame: {
        {
          std::lock_guard lock(mutex_);
          if (frames_ == c.frames_seen && !stopped_waits_ && now < c.wait_until) return true;
        }
        waiting_.fetch_sub(1, std::memory_order_relaxed);
        answer_metrics(c);
        break;
      }
      case Conn::State::writing: {
        while (c.sent < c.out.size()) {
          const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) {
            c.sent += static_cast<std::size_t>(n);
            continue;
          }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (now >= c.deadline) {
              ++dropped_;
              return false;  // a client that does not read its reply in time
            }
            return true;
          }
          return false;  // the client went
        }
        if (!c.keep) {
          ::shutdown(c.fd, SHUT_WR);
          return false;
        }
        c.out.clear();
        c.out.shrink_to_fit();
        c.sent = 0;
        c.request = {};
        c.state = Conn::State::reading;
        c.deadline = now + options_.request_timeout;  // the next request, whole, within this
        break;
      }
    }
  }
}

void Server::run() {
  std::vector<std::unique_ptr<Conn>> conns;
  const auto close_conn = [&](std::size_t i) {
    if (conns[i]->state == Conn::State::waiting_frame) waiting_.fetch_sub(1, std::memory_order_relaxed);
    ::close(conns[i]->fd);
    conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
  };
  std::vector<pollfd> fds;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      if (close_listener_ && listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        listener_closed_ = true;
        listening_closed_.notify_all();
      }
    }
    auto now = Clock::now();
    // Move every connection along (a wake may have brought a frame or a stop), then wait.
    for (std::size_t i = 0; i < conns.size();) {
      if (serve(*conns[i], now)) ++i;
      else close_conn(i);
    }
    Clock::time_point next = now + std::chrono::seconds(60);
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = listen_fd_ >= 0;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    for (const auto& c : conns) {
      short events = 0;
      switch (c->state) {
        case Conn::State::reading: events = POLLIN; next = std::min(next, c->deadline); break;
        case Conn::State::paced: next = std::min(next, c->slot); break;
        case Conn::State::waiting_frame: next = std::min(next, c->wait_until); break;
        case Conn::State::writing: events = POLLOUT; next = std::min(next, c->deadline); break;
      }
      fds.push_back({c->fd, events, 0});
    }
    if (::poll(fds.data(), fds.size(), poll_ms(now, next)) < 0 && errno != EINTR) break;
    now = Clock::now();
    if (fds[0].revents & POLLIN) {
      std::uint64_t n = 0;
      [[maybe_unused]] const auto r = ::read(wake_fd_, &n, sizeof n);
    }
    // Read what arrived: never more than a head's room, so a flood costs nothing but the
    // socket's own buffer until the connection is answered and closed.
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = *conns[i];
      const short got = fds[i + 2].revents;
      if (c.state != Conn::State::reading && (got & (POLLHUP | POLLERR))) {
        c.gone = true;  // poll(2) reports these whatever was asked: never spun on
      } else if (c.state == Conn::State::reading && (got & (POLLIN | POLLHUP | POLLERR))) {
        char buf[2048];
        const std::size_t room = kMaxRequestHead + 1 > c.in.size() ? kMaxRequestHead + 1 - c.in.size() : 1;
        const ssize_t n = ::recv(c.fd, buf, std::min(sizeof buf, room), MSG_DONTWAIT);
        if (n > 0) {
          c.in.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          c.gone = true;  // closed at the next turn without a word
        }
      }
    }
    if (accepting && (fds[1].revents & POLLIN)) {
      for (int k = 0; k < 8; ++k) {  // a few a turn: the others wait in the backlog
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (conns.size() >= kMaxConnections) {
          // Full: the connection that has been reading the longest without a whole request makes
          // room (a scraper's request comes in one packet, at once); if none is reading, the
          // newcomer is closed.
          std::size_t victim = conns.size();
          for (std::size_t i = 0; i < conns.size(); ++i) {
            if (conns[i]->state == Conn::State::reading &&
                (victim == conns.size() || conns[i]->accepted < conns[victim]->accepted)) {
              victim = i;
            }
          }
          ++dropped_;
          if (victim == conns.size()) {
            ::close(fd);
            continue;
          }
          close_conn(victim);
        }
        const int yes = 1;
        // A reply written at once, not after the client's delayed ACK (Nagle's algorithm, RFC 896,
        // against delayed ACKs, RFC 1122 4.2.3.2: 40 ms a scrape on Linux).
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        c->accepted = now;
        c->deadline = now + options_.request_timeout;
        conns.push_back(std::move(c));
      }
    }
  }
  for (std::size_t i = conns.size(); i > 0; --i) close_conn(i - 1);
  std::lock_guard lock(mutex_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  listener_closed_ = true;
  listening_closed_.notify_all();
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

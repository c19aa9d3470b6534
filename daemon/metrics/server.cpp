#include "daemon/metrics/server.hpp"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "daemon/metrics/exposition.hpp"
#include "daemon/metrics/lobby.hpp"
#include "daemon/metrics/make_room.hpp"
#include "daemon/metrics/process.hpp"
#include "drivers/thread/worker.hpp"

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

// Replies on one connection before it is closed: a client cannot hold one for ever by asking.
constexpr int kMaxRepliesPerConnection = 20;
// The listen socket's accept queue (listen(2)): the connections the kernel holds for the lobby.
constexpr std::size_t kListenBacklog = 64;
// libmicrohttpd's own limit (MHD_OPTION_CONNECTION_LIMIT): ours, and room for as many again as the
// listen queue holds, cut to make room and not yet closed by the library.
constexpr std::size_t kMhdConnectionLimit = kMaxConnections + kListenBacklog;

int poll_ms(Clock::time_point now, Clock::time_point until) {
  if (until <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::min<long long>(ms, 60000));
}

std::string_view header(MHD_Connection* mc, const char* name) {
  const char* v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
  return v ? std::string_view(v) : std::string_view();
}

}  // namespace

// One TCP connection, from the library's "started" to its "closed" (its socket context).
struct Server::Conn {
  enum class Phase { reading, answering, writing };
  int fd = -1;
  Phase phase = Phase::reading;   // answering: paced or waiting for a frame, ours to bound
  Clock::time_point accepted{};
  Clock::time_point deadline{};   // reading: its request's whole head; writing: its reply
  bool cut = false;               // shut down: the library closes it at its next turn
  int served = 0;                 // replies on it
};

// One request, from its request line (the URI callback) to its completion (its request context).
struct Server::Request {
  enum class Step { fresh, whole, paced, waiting };
  Conn* conn = nullptr;
  MHD_Connection* mc = nullptr;
  Step step = Step::fresh;
  bool answered = false;   // a reply of ours is queued
  bool suspended = false;
  bool index = false;      // "/" rather than "/metrics"
  Clock::time_point slot{};        // paced: served from then
  Clock::time_point wait_until{};  // waiting: answered with what there is from then
  std::uint64_t frames_seen = 0;   // waiting: the frame count it waits past
};

// libmicrohttpd's callbacks, all on the I/O thread (MHD_run): nothing here throws into C.
struct Server::Mhd {
  static void on_connection(void* cls, MHD_Connection* mc, void** socket_context, MHD_ConnectionNotificationCode code) {
    auto& self = *static_cast<Server*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      auto* c = static_cast<Conn*>(*socket_context);
      std::erase(self.conns_, c);
      delete c;
      *socket_context = nullptr;
      return;
    }
    Conn* c = nullptr;
    try {
      c = new Conn;
      self.conns_.push_back(c);
    } catch (const std::exception&) {
      delete c;
      return;  // no room to track it: the request callback closes it
    }
    const auto* info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = info ? info->connect_fd : -1;
    c->accepted = Clock::now();
    c->deadline = c->accepted + self.options_.request_timeout;
    *socket_context = c;
    std::size_t live = 0;
    for (const Conn* o : self.conns_) live += o->cut ? 0 : 1;
    if (live <= kMaxConnections) return;
    // Full: one makes room (make_room.hpp). Every connection here has spoken (the lobby keeps
    // the silent ones): the one reading its request the longest goes, a slowloris, and one with its
    // request waiting unread last. conns_ is in the order accepted.
    Conn* victim = make_room(
        self.conns_, c, [](const Conn& o) { return !o.cut && o.phase == Conn::Phase::reading; },
        [](const Conn& o) { return has_unread(o.fd); });
    ++self.dropped_;
    self.cut(victim ? *victim : *c);
  }

  // The request line has come (before its headers): the request's context, so that a request the
  // library refuses itself (a head past its pool, a malformed line) is told completed, and counted.
  static void* on_uri(void*, const char*, MHD_Connection* mc) {
    const auto* info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    Conn* conn = info ? static_cast<Conn*>(info->socket_context) : nullptr;
    if (!conn) return nullptr;
    try {
      auto* r = new Request;
      r->conn = conn;
      r->mc = mc;
      return r;
    } catch (const std::exception&) {
      return nullptr;  // no request context: the access handler closes it
    }
  }

  static MHD_Result on_request(void* cls, MHD_Connection* mc, const char* url, const char* method, const char*,
                               const char*, size_t* upload_data_size, void** req_cls) {
    auto& self = *static_cast<Server*>(cls);
    auto* r = static_cast<Request*>(*req_cls);
    if (!r) return MHD_NO;  // not tracked (no memory): closed
    if (*upload_data_size != 0) {
      *upload_data_size = 0;  // a body's bytes after its refusal: dropped
      return MHD_YES;
    }
    try {
      if (r->step == Request::Step::fresh) {
        r->conn->phase = Conn::Phase::answering;
        if (!header(mc, MHD_HTTP_HEADER_TRANSFER_ENCODING).empty()) {
          ++self.rejected_;
          return self.respond(*r, 501, "text/plain", "refused: a request body is not taken here\n") ? MHD_YES : MHD_NO;
        }
        if (const auto length = header(mc, MHD_HTTP_HEADER_CONTENT_LENGTH); !length.empty() && length != "0") {
          ++self.rejected_;
          return self.respond(*r, 413, "text/plain", "refused: a request body is not taken here\n") ? MHD_YES : MHD_NO;
        }
        const std::string_view m = method ? method : "";
        if (m != "GET" && m != "HEAD") {
          ++self.rejected_;
          return self.respond(*r, 405, "text/plain", "GET or HEAD only\n") ? MHD_YES : MHD_NO;
        }
        const std::string_view target = url ? url : "";
        if (target != "/metrics" && target != "/") {
          return self.respond(*r, 404, "text/plain", "not found: the metrics are at /metrics\n") ? MHD_YES : MHD_NO;
        }
        r->index = target == "/";
        // Answered at the next call, once the library has the whole request: a reply queued at
        // this first one is "early" to it, and it closes the connection after (no keep-alive, a
        // pipelined request lost).
        r->step = Request::Step::whole;
        return MHD_YES;
      }
      return self.answer(*r) ? MHD_YES : MHD_NO;
    } catch (const std::exception&) {
      return MHD_NO;  // out of memory rendering a reply: this connection closed, the server serves on
    }
  }

  static void on_completed(void* cls, MHD_Connection*, void** req_cls, MHD_RequestTerminationCode code) {
    auto& self = *static_cast<Server*>(cls);
    auto* r = static_cast<Request*>(*req_cls);
    if (!r) return;
    *req_cls = nullptr;
    // Refused by the library before it reached us: a head past the pool (431), a request line or
    // header line it does not take (400), a version it does not speak (505).
    if (!r->answered && code == MHD_REQUEST_TERMINATED_WITH_ERROR) ++self.rejected_;
    if (code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) ++self.dropped_;
    if (r->step == Request::Step::waiting && !r->answered) self.waiting_.fetch_sub(1, std::memory_order_relaxed);
    if (r->suspended) std::erase(self.suspended_, r);
    Conn& c = *r->conn;
    if (r->answered) ++c.served;
    c.phase = Conn::Phase::reading;
    c.deadline = Clock::now() + self.options_.request_timeout;  // the next request, whole, within this
    delete r;
  }

  static void free_body(void* body) { delete static_cast<std::string*>(body); }
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
  if (mhd_) MHD_stop_daemon(mhd_);  // never started its thread
  lobby_.reset();                   // the listening socket, if the thread never had it
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
    // A connection is handed to accept(2) when its first bytes come, not at its handshake (tcp(7),
    // TCP_DEFER_ACCEPT; nginx's `listen ... deferred`): a scraper sends its request at once, and
    // connections that say nothing wait in the kernel instead of taking the slots it needs. Seen
    // in CI: a scrape among 10,000 silent connections was accepted 0.3 ms before its request came
    // and cut as the oldest silent one (make_room.hpp). Bounded by the request's own time-out.
    // Not for a connection made on a SYN cookie: those wait in the lobby instead (lobby.hpp).
    const int defer_s = static_cast<int>(
        std::clamp<long long>(std::chrono::ceil<std::chrono::seconds>(options_.request_timeout).count(), 1, 60));
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s);  // refused: served as before
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, static_cast<int>(kListenBacklog)) == 0) {
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
  // The library's own time-out is per read (its "inactivity"): a backstop behind the deadlines
  // kept here, in whole seconds as it takes them.
  const auto idle_s = static_cast<unsigned>(
      std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(options_.request_timeout).count()));
  // Our socket, bound above (the address's errors are ours to name), accepted from by the lobby,
  // which hands the library a connection when it has spoken (lobby.hpp). The library's own limit is
  // a backstop above ours, with room for connections cut to make room and not yet closed (the
  // library closes a cut one at a later turn); the lobby hands over no more than it has room for.
  lobby_ = std::make_unique<Lobby>(listen_fd_, Lobby::Limits{.wait = options_.request_timeout});
  mhd_ = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET, 0, nullptr, nullptr,
                          &Mhd::on_request, this,
                          MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(kMhdConnectionLimit),
                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
                          MHD_OPTION_CONNECTION_MEMORY_INCREMENT, std::size_t{1024},
                          MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
                          MHD_OPTION_NOTIFY_CONNECTION, &Mhd::on_connection, this,
                          MHD_OPTION_URI_LOG_CALLBACK, &Mhd::on_uri, this,
                          MHD_OPTION_NOTIFY_COMPLETED, &Mhd::on_completed, this,
                          // RFC 9112 as written: whitespace before a header's colon, a folded
                          // line, a bare LF are refused with 400 rather than read leniently.
                          MHD_OPTION_STRICT_FOR_CLIENT, 1,
                          MHD_OPTION_END);
  if (!mhd_) throw std::runtime_error("metrics.listen: cannot serve on " + where + " (libmicrohttpd would not start)");
  thread_ = std::thread([this] {
    drivers::thread::begin_side_thread("metrics");
    lower_priority();
    run();
  });
}

void Server::cut(Conn& c) {
  if (c.cut) return;
  c.cut = true;
  // Not close(2): the socket is the library's, which sees the end at its next turn and closes it,
  // on this thread, so its number cannot be reused under it.
  if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
}

std::size_t Server::room() const {
  const auto* info = MHD_get_daemon_info(mhd_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  const std::size_t held = info ? info->num_connections : kMhdConnectionLimit;
  return held < kMhdConnectionLimit ? kMhdConnectionLimit - held : 0;
}

void Server::suspend(Request& r) {
  MHD_suspend_connection(r.mc);
  r.suspended = true;
  suspended_.push_back(&r);
}

int Server::respond(Request& r, unsigned status, std::string_view type, std::string body) {
  auto owned = std::make_unique<std::string>(std::move(body));
  MHD_Response* reply = MHD_create_response_from_buffer_with_free_callback_cls(owned->size(), owned->data(),
                                                                               &Mhd::free_body, owned.get());
  if (!reply) return 0;
  owned.release();  // the response's now: freed with it
  const std::string content_type(type);
  MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, content_type.c_str());
  // Range requests are not served (RFC 9110 §14.3): the reply is whole, once.
  MHD_add_response_header(reply, MHD_HTTP_HEADER_ACCEPT_RANGES, "none");
  if (status == 401) MHD_add_response_header(reply, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"shackd\"");
  if (status == 405) MHD_add_response_header(reply, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  // A refusal ends the connection, as does a connection's last reply.
  const bool refusal = status == 405 || status == 413 || status == 501;
  if (refusal || r.conn->served + 1 >= kMaxRepliesPerConnection) {
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONNECTION, "close");
  }
  const bool queued = MHD_queue_response(r.mc, status, reply) == MHD_YES;
  MHD_destroy_response(reply);
  if (!queued) return 0;
  r.answered = true;
  r.conn->phase = Conn::Phase::writing;
  r.conn->deadline = Clock::now() + options_.request_timeout;
  return 1;
}

bool Server::authorized(Request& r) {
  if (options_.bearer_token.empty()) return true;
  const std::string_view given = header(r.mc, MHD_HTTP_HEADER_AUTHORIZATION);
  if (given.starts_with("Bearer ") && same_secret(std::string(given.substr(7)), options_.bearer_token)) return true;
  ++refused_;
  return false;
}

int Server::answer_metrics(Request& r) {
  std::shared_ptr<const Frame> frame;
  {
    std::lock_guard lock(mutex_);
    frame = take_frame();
  }
  if (!frame) return respond(r, 503, "text/plain", "shackd has not finished its first cycle yet\n");
  const Format f = negotiate(std::string(header(r.mc, MHD_HTTP_HEADER_ACCEPT)));
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
  return respond(r, 200, f == Format::openmetrics ? kOpenMetricsType : kPrometheusTextType, std::move(text));
}

// Moves a request along as far as it can go now (the access handler, first or resumed).
int Server::answer(Request& r) {
  const auto now = Clock::now();
  switch (r.step) {
    case Request::Step::fresh:  // not called so (on_request)
    case Request::Step::whole:
      // Every request for the metrics or the index waits for its slot: a client asking as fast as
      // it can is held to 1 / gap a second, whatever it asks.
      r.step = Request::Step::paced;
      r.slot = pacer_.slot(now);
      if (now < r.slot) {
        suspend(r);
        return 1;
      }
      [[fallthrough]];
    case Request::Step::paced: {
      if (!authorized(r)) return respond(r, 401, "text/plain", "a bearer token is needed (metrics.token_file)\n");
      if (r.index) return respond(r, 200, "text/plain", kIndex);
      asked_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(mutex_);
      if ((!filling_ || !latest_) && !stopped_waits_) {
        // The loop is idle (or has not finished a cycle): the next cycle fills a frame for us.
        r.step = Request::Step::waiting;
        r.frames_seen = frames_;
        r.wait_until = now + std::chrono::milliseconds(fresh_wait_ms_.load(std::memory_order_relaxed));
        waiting_.fetch_add(1, std::memory_order_relaxed);
        suspend(r);
        return 1;
      }
      break;
    }
    case Request::Step::waiting:
      waiting_.fetch_sub(1, std::memory_order_relaxed);
      r.step = Request::Step::paced;  // counted off: not again at its completion
      break;
  }
  return answer_metrics(r);
}

void Server::run() {
  const auto* info = MHD_get_daemon_info(mhd_, MHD_DAEMON_INFO_EPOLL_FD);
  const int epoll_fd = info ? info->epoll_fd : -1;
  for (;;) {
    bool quiesce = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      quiesce = close_listener_ && !listener_closed_;
    }
    if (quiesce) {
      // No more accepted; the library's connections, and those in the lobby that spoke, go on.
      lobby_->close_listener();
      std::lock_guard lock(mutex_);
      listen_fd_ = -1;
      listener_closed_ = true;
      listening_closed_.notify_all();
    }
    auto now = Clock::now();
    // A request that did not come whole in time (a slowloris, or a kept-alive connection with
    // nothing more to ask), or a reply not read in time: closed.
    for (Conn* c : conns_) {
      if (!c->cut && c->phase != Conn::Phase::answering && now >= c->deadline) {
        ++dropped_;
        cut(*c);
      }
    }
    // Paced requests whose slot has come, waiting ones with a frame, at their wait's end or stopping.
    bool stopped_waits = false;
    std::uint64_t frames = 0;
    {
      std::lock_guard lock(mutex_);
      stopped_waits = stopped_waits_;
      frames = frames_;
    }
    std::erase_if(suspended_, [&](Request* r) {
      const bool due = r->step == Request::Step::paced
                           ? now >= r->slot
                           : frames != r->frames_seen || stopped_waits || now >= r->wait_until;
      if (!due) return false;
      r->suspended = false;
      MHD_resume_connection(r->mc);
      return true;
    });
    const auto silent_closed = lobby_->closed();
    lobby_->turn(now, room(), [this](int fd, const sockaddr* peer, socklen_t peer_len) {
      // The library's socket now: one it refuses (out of memory; never for want of room, which the
      // lobby does not hand over without) it has closed, and it is counted as cut.
      if (MHD_add_connection(mhd_, fd, peer, peer_len) != MHD_YES) ++dropped_;
    });
    dropped_ += lobby_->closed() - silent_closed;
    MHD_run(mhd_);
    now = Clock::now();
    Clock::time_point next = std::min(now + std::chrono::seconds(60), lobby_->next(now));
    for (const Conn* c : conns_) {
      if (!c->cut && c->phase != Conn::Phase::answering) next = std::min(next, c->deadline);
    }
    for (const Request* r : suspended_) next = std::min(next, r->step == Request::Step::paced ? r->slot : r->wait_until);
    MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
    if (MHD_get_timeout(mhd_, &mhd_ms) == MHD_YES) {
      next = std::min(next, now + std::chrono::milliseconds(std::min<MHD_UNSIGNED_LONG_LONG>(mhd_ms, 60000)));
    }
    // A negative descriptor is left out by poll(2): the listening socket while the lobby is full.
    pollfd fds[4] = {{wake_fd_, POLLIN, 0}, {epoll_fd, POLLIN, 0}, {lobby_->ready_fd(), POLLIN, 0},
                     {lobby_->accept_fd(now), POLLIN, 0}};
    if (::poll(fds, 4, poll_ms(now, next)) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      std::uint64_t n = 0;
      [[maybe_unused]] const auto r = ::read(wake_fd_, &n, sizeof n);
    }
  }
  // The library may not be stopped with a connection suspended: each is resumed, then closed with
  // the rest, at once.
  for (Request* r : suspended_) {
    r->suspended = false;
    MHD_resume_connection(r->mc);
  }
  suspended_.clear();
  MHD_stop_daemon(mhd_);
  mhd_ = nullptr;
  lobby_.reset();  // the listening socket, if still open, and what waits in the lobby
  std::lock_guard lock(mutex_);
  listen_fd_ = -1;
  listener_closed_ = true;
  listening_closed_.notify_all();
}

}  // namespace shackd::metrics

#include "drivers/mqtt/client.hpp"

#include "drivers/mqtt/broker_uri.hpp"
#include "drivers/text/secret_file.hpp"
#include "drivers/thread/worker.hpp"

#include <mosquitto.h>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace drivers::mqtt {

namespace {

// On the connection's thread at each try (and at the start): bounded, never waiting on a FIFO.
std::string read_secret(const std::string& path) {
  std::string why;
  auto s = text::read_first_line(path, why);
  if (!s) throw std::runtime_error("mqtt: cannot read the password file " + path + ": " + why);
  return *s;
}

// Asked, not opened: an open of a FIFO would wait for a writer.
bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

std::string describe_connect_failure(int rc, const std::string& uri) {
  const bool tls = uri.rfind("ssl://", 0) == 0;
  switch (rc) {
    case 1: return "the broker refused the protocol version (CONNACK 1)";
    case 2: return "the broker rejected the client id (CONNACK 2): set mqtt.client_id to one no other client uses";
    case 3: return "the broker is unavailable (CONNACK 3)";
    case 4: return "bad user name or password (CONNACK 4): check mqtt.username and mqtt.password_file";
    case 5:
      return "not authorised (CONNACK 5): the broker refused these credentials; check mqtt.username, "
             "mqtt.password_file and the broker's password file and ACL";
    case -1: {
      if (!tls) return "cannot connect to " + uri + ": no broker is listening there, or it is unreachable";
      // A TLS connection that failed: the handshake (a certificate the CA did not sign) or, after
      // it, the certificate does not name the host (libmosquitto's mosquitto__verify_certificate_
      // hostname: its DNS names, or for an address its IP subjectAltNames). Each cause is named,
      // the host's in full.
      std::string host = uri.substr(6);
      if (const auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
      const bool ip = !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
      return "cannot connect to " + uri + ": no broker listening or unreachable, a TLS handshake that failed (check "
             "mqtt.ca_file against the CA that signed the broker's certificate), or a host name mismatch: the "
             "broker's certificate does not name " + host + " (shackd checks that it names the host of mqtt.uri" +
             (ip ? "; for an IP address it needs subjectAltName IP:" + host : std::string()) + ")";
    }
    default: return "connect failed (code " + std::to_string(rc) + ")";
  }
}

namespace {

// libmosquitto's global state, once per process (mosquitto_lib_init: "must be called before any
// other mosquitto functions"; thread-safe as a function-local static).
void library_once() {
  static const int init = mosquitto_lib_init();
  (void)init;
}

// The jitter's seed: differs between processes and between links of one process.
std::uint64_t seed_for(const void* self) {
  const auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return t ^ (static_cast<std::uint64_t>(getpid()) << 32) ^ reinterpret_cast<std::uintptr_t>(self);
}

int clamp_int(std::size_t n) { return static_cast<int>(std::min<std::size_t>(n, 268435455)); }  // MQTT's largest payload

}  // namespace

Client::Client(ClientConfig config) : config_(std::move(config)), backoff_(config_.reconnect, seed_for(this)) {
  std::string why;
  const auto address = parse_broker_uri(config_.uri, why);
  if (!address) throw std::runtime_error(why);
  host_ = address->host;
  port_ = address->port;
  for (const auto* f : {&config_.ca_file, &config_.cert_file, &config_.key_file}) {
    if (!f->empty() && !readable(*f)) throw std::runtime_error("mqtt: cannot read " + *f);
  }
  if (!config_.password_file.empty()) read_secret(config_.password_file);  // fail now, not on reconnect
  library_once();
  // A clean session: no queued commands delivered late; every subscription is issued again.
  mosq_ = mosquitto_new(config_.client_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("mqtt: cannot create the client (out of memory, or an empty client id)");
  fresh();
}

Client::~Client() {
  try {
    shutdown(std::chrono::milliseconds(1000));
  } catch (...) {
  }
  if (mosq_) mosquitto_destroy(mosq_);  // the connection's thread is gone: nothing calls back
}

void Client::fresh() {
  {
    std::lock_guard api(api_m_);
    fresh_locked();
  }
  // The callbacks are set outside api_m_: each setter takes libmosquitto's callback mutex, which
  // the connection's thread holds while it calls us back (on_publish takes bulk_m_, on_subscribe
  // sub_m_), and a publish takes api_m_ under bulk_m_ or sub_m_: under api_m_ these four would
  // make a cycle of locks (ThreadSanitizer's lock-order-inversion). Only this thread (or the
  // constructor, before it) connects, so nothing is called back before they are set; a publish
  // meanwhile meets an unconnected client and is refused as one.
  mosquitto_connect_callback_set(mosq_, &Client::connect_cb);
  mosquitto_disconnect_callback_set(mosq_, &Client::disconnect_cb);
  mosquitto_message_callback_set(mosq_, &Client::message_cb);
  mosquitto_publish_callback_set(mosq_, &Client::publish_cb);
  mosquitto_subscribe_callback_set(mosq_, &Client::subscribe_cb);
}

void Client::fresh_locked() {
  mosquitto_reinitialise(mosq_, config_.client_id.c_str(), true, this);
  // Another thread publishes while this one runs the connection (libmosquitto's threaded mode:
  // a publish wakes the connection's select through its socket pair).
  mosquitto_threaded_set(mosq_, true);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  // Every QoS 1 message goes to the socket at once, in order: none waits in the library for the
  // PUBACKs of those before it (its default holds all but 20), so a relay command is never held
  // behind a burst of Home Assistant's discovery or the events of an outage.
  mosquitto_max_inflight_messages_set(mosq_, 0);
  if (!config_.status_topic.empty()) {
    mosquitto_will_set(mosq_, config_.status_topic.c_str(), 7, "offline", 1, true);
  }
  if (config_.uri.rfind("ssl://", 0) == 0) {
    // The CA verifies the broker's certificate, and the certificate must name the host of
    // mqtt.uri (libmosquitto checks it unless told it is insecure, which shackd never does).
    // Without mqtt.ca_file, the system's CAs (Debian's ca-certificates).
    mosquitto_tls_set(mosq_, config_.ca_file.empty() ? nullptr : config_.ca_file.c_str(),
                      config_.ca_file.empty() ? "/etc/ssl/certs" : nullptr,
                      config_.cert_file.empty() ? nullptr : config_.cert_file.c_str(),
                      config_.key_file.empty() ? nullptr : config_.key_file.c_str(), nullptr);
    mosquitto_tls_insecure_set(mosq_, false);
  }
}

void Client::push(Event e) {
  std::lock_guard lock(mutex_);
  // What last_failure() says is the link's now, not what the owner has polled so far: set here, and
  // cleared in on_connect before connected() says true (a test read the two between the CONNACK
  // and its poll of the event: connected, with the old failure still said; CI, ASan).
  if (e.kind == Event::Kind::connect_failed) last_failure_ = e.payload;
  if (e.kind == Event::Kind::message) {
    // A flood is dropped here, newest first, and counted: the loop reads what it can each cycle
    // and nothing a neighbour sends can grow this queue without bound.
    if (queued_messages_ >= kMaxQueuedMessages) {
      ++dropped_in_;
      return;
    }
    ++queued_messages_;
  } else if (e.kind == Event::Kind::connect_failed && !events_.empty() && events_.back().kind == e.kind &&
             events_.back().payload == e.payload) {
    // Tries every half second while the owner is away (`once`, a stop) would pile up: the same
    // failure again is counted (failed_connects), not queued.
    return;
  }
  events_.push_back(std::move(e));
}

void Client::connect_cb(mosquitto*, void* self, int rc) { static_cast<Client*>(self)->on_connect(rc); }
void Client::disconnect_cb(mosquitto*, void* self, int) {
  // Told by the connection's loop (keep()), which sees the same end in mosquitto_loop's result.
  (void)self;
}
void Client::message_cb(mosquitto*, void* self, const mosquitto_message* m) {
  if (m) static_cast<Client*>(self)->on_message(*m);
}
void Client::publish_cb(mosquitto*, void* self, int mid) { static_cast<Client*>(self)->on_publish(mid); }
void Client::subscribe_cb(mosquitto*, void* self, int mid, int, const int*) { static_cast<Client*>(self)->on_subscribe(mid); }

void Client::on_subscribe(int mid) {
  std::lock_guard lock(sub_m_);
  subacks_pending_.erase(mid);
}

void Client::subscribe_now(const std::string& filter) {
  std::lock_guard lock(sub_m_);  // held across: its SUBACK (the connection's thread) finds the mid
  int mid = 0;
  if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), 1) == MOSQ_ERR_SUCCESS) subacks_pending_.insert(mid);
}

bool Client::subscribed() const {
  if (!connected_) return false;
  std::lock_guard lock(sub_m_);
  return subacks_pending_.empty();
}

// On the connection's thread, at CONNACK: the relays' commands before anything else on this
// connection, then the subscriptions (a clean session forgets them), then what the relays are
// asked (their answers are heard now), then "online". Only then may the owner's other senders
// publish: each checks connected_, which is set last.
void Client::on_connect(int rc) {
  if (rc != 0) {
    // The broker answered and refused us (CONNACK 1-5): it closes the connection; the loop sees
    // it end. Tried again slowly (reconnect.hpp).
    refused_ = true;
    ++failed_connects_;
    push({Event::Kind::connect_failed, {}, describe_connect_failure(rc, config_.uri), false});
    return;
  }
  const Standing s = standing();
  std::set<std::string> subs;
  {
    std::lock_guard lock(mutex_);
    subs = subscriptions_;
    session_up_ = true;  // a subscribe() from now on is issued at once
  }
  for (const auto& c : s.commands) {
    if (mosquitto_publish(mosq_, nullptr, c.topic.c_str(), clamp_int(c.payload.size()), c.payload.data(), 1, false) ==
        MOSQ_ERR_SUCCESS) {
      ++lane_sent_;
    }
  }
  for (const auto& f : subs) subscribe_now(f);
  for (const auto& q : s.questions) {
    mosquitto_publish(mosq_, nullptr, q.topic.c_str(), clamp_int(q.payload.size()), q.payload.data(), 1, false);
  }
  if (!config_.status_topic.empty()) mosquitto_publish(mosq_, nullptr, config_.status_topic.c_str(), 6, "online", 1, true);
  state_ = State::connected;
  backoff_.connected();
  {
    std::lock_guard lock(mutex_);
    last_failure_.clear();
  }
  connected_ = true;
  // What came to stand while the above went out: a command the owner's thread offered in that
  // moment was refused (not connected yet) after it stood (RelayManager::send stands first), and
  // would wait for the next cycle's re-assert behind the older one sent above. Sent now, after it.
  const Standing now_standing = standing();
  for (const auto& c : now_standing.commands) {
    if (std::find(s.commands.begin(), s.commands.end(), c) != s.commands.end()) continue;
    if (mosquitto_publish(mosq_, nullptr, c.topic.c_str(), clamp_int(c.payload.size()), c.payload.data(), 1, false) ==
        MOSQ_ERR_SUCCESS) {
      ++lane_sent_;
    }
  }
  push({Event::Kind::connected, {}, {}, false});
}

void Client::on_message(const mosquitto_message& m) {
  // A neighbour's huge message (MQTT allows 256 MiB) is not copied whole: what the owner keeps of
  // it is enough to see that it is too large (kMaxMessageBytes + 1), and the library frees the rest
  // when this returns.
  const std::size_t len = m.payload && m.payloadlen > 0 ? static_cast<std::size_t>(m.payloadlen) : 0;
  push({Event::Kind::message, m.topic ? m.topic : "",
        std::string(static_cast<const char*>(m.payload), std::min(len, kMaxMessageBytes + 1)), m.retain,
        std::chrono::steady_clock::now()});
}

void Client::on_publish(int mid) {
  {
    std::lock_guard bulk(bulk_m_);
    if (goodbye_mid_ && mid == *goodbye_mid_) goodbye_acked_ = true;
    if (const auto it = bulk_out_.find(mid); it != bulk_out_.end()) {
      bulk_out_bytes_ -= it->second;
      bulk_out_.erase(it);
    }
  }
  std::lock_guard lock(tickets_mutex_);
  const auto it = ticket_of_mid_.find(mid);
  if (it == ticket_of_mid_.end()) return;
  if (const auto t = tickets_.find(it->second); t != tickets_.end()) t->second.outcome = true;
  ticket_of_mid_.erase(it);
}

// The connection (or the attempt at one) ended: what was in flight failed, the owner is told, and
// the next try is scheduled; the client state is made fresh for it (nothing of this connection is
// sent on the next).
void Client::ended(bool lost, bool refused, const std::string& why) {
  const bool was_connected = state_ == State::connected;
  connected_ = false;
  {
    std::lock_guard lock(mutex_);
    session_up_ = false;
  }
  {
    std::lock_guard lock(sub_m_);
    subacks_pending_.clear();
  }
  {
    // What the library held of this connection goes with its state (fresh() below): the window
    // is empty for the next. A bulk publish checks connected_ under this lock, so none lands
    // between here and the fresh state.
    std::lock_guard bulk(bulk_m_);
    bulk_out_.clear();
    bulk_out_bytes_ = 0;
  }
  {
    std::lock_guard lock(tickets_mutex_);
    for (auto& [ticket, t] : tickets_) {
      if (!t.outcome) t.outcome = false;
    }
    ticket_of_mid_.clear();
  }
  state_ = State::idle;
  if (was_connected && lost) {
    push({Event::Kind::lost, {}, why, false});
  } else if (!refused_) {
    ++failed_connects_;
    push({Event::Kind::connect_failed, {}, why, false});
  }
  const auto now = std::chrono::steady_clock::now();
  retry_at_ = now + (was_connected ? backoff_.after_loss() : backoff_.after_failure(refused || refused_));
  refused_ = false;
  fresh();
}

void Client::try_connect() {
  attempt_started_ = std::chrono::steady_clock::now();
  if (!config_.username.empty() || !config_.password_file.empty()) {
    std::string password;
    try {
      // Read at each attempt: an owner who fixes the password file is heard without a restart.
      if (!config_.password_file.empty()) password = read_secret(config_.password_file);
    } catch (const std::runtime_error& e) {
      // Outside api_m_: ended() makes the client state fresh under it.
      state_ = State::connecting;
      ended(false, true, e.what());  // the owner's to fix: tried again slowly
      return;
    }
    std::lock_guard api(api_m_);
    mosquitto_username_pw_set(mosq_, config_.username.empty() ? nullptr : config_.username.c_str(),
                              config_.password_file.empty() ? nullptr : password.c_str());
  }
  state_ = State::connecting;
  const int keepalive = static_cast<int>(std::clamp<long long>(config_.keepalive.count(), 5, 65535));
  const int rc = mosquitto_connect_async(mosq_, host_.c_str(), port_, keepalive);
  if (rc != MOSQ_ERR_SUCCESS) ended(false, false, describe_connect_failure(-1, config_.uri));
}

void Client::start() {
  if (keeper_.joinable()) return;
  stopping_ = false;
  retry_at_ = std::chrono::steady_clock::now();  // the first try at once
  keeper_ = std::thread([this] { keep(); });
}

// The connection's thread. Connected (or connecting), it runs libmosquitto's loop: a select on the
// socket, woken by a publish from another thread (libmosquitto's threaded mode writes its socket
// pair) and by a stop (shutdown() disconnects, which does the same), else at most once a second
// for the keepalive. It woke every 100 ms before: 10 wake-ups a second on an idle link, the
// largest share of the link's CPU on the 500 ms floor bench (strace: 5 time-outs to 3 publishes a
// cycle). Idle, it waits in sleeps of at most 100 ms for the next try (no clocked condition-
// variable wait: under libfaketime, which the demo and the tests use, glibc's clocked waits never
// wake; see poll()).
void Client::keep() {
  drivers::thread::begin_side_thread("shackd-mqtt");
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (state_ == State::idle) {
      if (now < retry_at_) {
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(retry_at_ - now, kIdleNap));
        continue;
      }
      try_connect();
      continue;
    }
    const int rc = mosquitto_loop(mosq_, static_cast<int>(kLoopWait.count()), 1);
    if (stopping_) break;  // woken by the stop's disconnect: shutdown() says the rest
    if (rc != MOSQ_ERR_SUCCESS) {
      const std::string why = state_ == State::connected
                                  ? std::string(rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc))
                                  : describe_connect_failure(-1, config_.uri);
      ended(true, false, why);
      continue;
    }
    if (state_ == State::connecting && now - attempt_started_ > config_.connect_timeout) {
      // A broker that took the connection and never answered CONNECT.
      ended(false, false, describe_connect_failure(-1, config_.uri) + " (no answer within " +
                              std::to_string(config_.connect_timeout.count()) + " s)");
    }
  }
}

std::string Client::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

void Client::shutdown(std::chrono::milliseconds timeout) {
  if (!keeper_.joinable()) return;
  const auto began = std::chrono::steady_clock::now();
  // "offline" first, and its PUBACK awaited while the connection's thread still reads: the broker
  // handles one connection's packets in order, so that acknowledgement says it has handled every
  // message before it, on either lane, QoS 0 and 1 alike (the stop's last words: a shadow's
  // retained documents cleared, a relay's OFF). Without it the library's close after DISCONNECT,
  // with unread PUBACKs in the socket, resets the connection, and the broker drops what it has not
  // read yet: seen on a loaded machine (mosquitto's log: "disconnected due to out of memory",
  // the shadow's documents left retained).
  const bool said = say_offline_acknowledged(began + timeout * 3 / 4);
  stopping_ = true;
  {
    // A clean disconnect suppresses the will, hence "offline" above. The disconnect also wakes the
    // connection's select at once (its queued packet writes libmosquitto's socket pair), so the
    // stop does not wait out the loop's second; with no socket (idle) it is refused and harmless.
    std::lock_guard api(api_m_);
    mosquitto_disconnect(mosq_);
  }
  keeper_.join();  // at most a nap (idle, kIdleNap) or a connect's own time
  if (state_ == State::connected) {
    if (!said) {
      // Connected after the look above (the CONNACK's callback), or not acknowledged: said now.
      std::lock_guard api(api_m_);
      if (!config_.status_topic.empty()) mosquitto_publish(mosq_, nullptr, config_.status_topic.c_str(), 7, "offline", 1, true);
      mosquitto_disconnect(mosq_);
    }
    // Written within `timeout` by our own loop, or given up (the broker's will says "offline" then).
    const auto until = began + timeout;  // a quarter of it at least: the wait above took at most 3/4
    while (std::chrono::steady_clock::now() < until) {
      if (mosquitto_loop(mosq_, 20, 1) != MOSQ_ERR_SUCCESS) break;  // the disconnect went: the socket is closed
    }
  }
  connected_ = false;
  state_ = State::idle;
}

bool Client::say_offline_acknowledged(std::chrono::steady_clock::time_point until) {
  if (!connected_ || config_.status_topic.empty()) return false;
  {
    // bulk_m_ across the publish, as publish_bulk: on_publish (the connection's thread) takes it
    // first, so it finds the id recorded.
    std::lock_guard bulk(bulk_m_);
    std::lock_guard api(api_m_);
    int mid = 0;
    if (mosquitto_publish(mosq_, &mid, config_.status_topic.c_str(), 7, "offline", 1, true) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    goodbye_mid_ = mid;
    goodbye_acked_ = false;
  }
  // Short sleeps, not a clocked wait (poll() says why). A connection that ends meanwhile ends it.
  while (connected_ && std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard bulk(bulk_m_);
      if (goodbye_acked_) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard bulk(bulk_m_);
  return goodbye_acked_;
}

void Client::subscribe(const std::string& filter) {
  bool now = false;
  {
    std::lock_guard lock(mutex_);
    subscriptions_.insert(filter);
    now = session_up_;  // else the next connect issues it with the rest
  }
  if (now) {
    std::lock_guard sub(sub_m_);
    std::lock_guard api(api_m_);
    int mid = 0;  // else re-issued on the next connect
    if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), 1) == MOSQ_ERR_SUCCESS) subacks_pending_.insert(mid);
  }
}

bool Client::publish(const std::string& topic, const std::string& payload, int qos, bool retain) {
  if (!connected_) {
    ++dropped_;
    return false;
  }
  std::lock_guard api(api_m_);
  if (mosquitto_publish(mosq_, nullptr, topic.c_str(), clamp_int(payload.size()), payload.data(), qos, retain) !=
      MOSQ_ERR_SUCCESS) {
    ++dropped_;
    return false;
  }
  return true;
}

bool Client::publish_bulk(const std::string& topic, const std::string& payload, int qos, bool retain,
                          std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  bool waited = false;
  while (true) {
    {
      std::lock_guard bulk(bulk_m_);
      if (!connected_ || stopping_) break;
      if (bulk_room_locked()) {
        std::lock_guard api(api_m_);
        int mid = 0;
        if (mosquitto_publish(mosq_, &mid, topic.c_str(), clamp_int(payload.size()), payload.data(), qos, retain) !=
            MOSQ_ERR_SUCCESS) {
          break;
        }
        // Recorded before on_publish can look (it takes bulk_m_ first).
        bulk_out_[mid] = payload.size() + topic.size();
        bulk_out_bytes_ += payload.size() + topic.size();
        return true;
      }
    }
    if (!std::exchange(waited, true)) ++bulk_waited_;
    if (std::chrono::steady_clock::now() >= until) break;
    // Short sleeps, not a clocked wait (poll() says why); the window frees at the connection's pace.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ++dropped_;
  return false;
}

std::uint64_t Client::publish_confirmed(const std::string& topic, const std::string& payload, bool retain) {
  std::lock_guard bulk(bulk_m_);
  if (!connected_) {
    ++dropped_;
    return 0;
  }
  if (!bulk_room_locked()) {
    ++bulk_waited_;
    return 0;  // the caller (the outbox's pump) tries again at its next turn
  }
  std::lock_guard api(api_m_);
  // Held across the publish: its PUBACK (on the connection's thread) finds the ticket.
  std::lock_guard lock(tickets_mutex_);
  int mid = 0;
  if (mosquitto_publish(mosq_, &mid, topic.c_str(), clamp_int(payload.size()), payload.data(), 1, retain) !=
      MOSQ_ERR_SUCCESS) {
    ++dropped_;
    return 0;
  }
  tickets_[++next_ticket_] = Ticket{mid, std::nullopt};
  ticket_of_mid_[mid] = next_ticket_;
  bulk_out_[mid] = payload.size() + topic.size();
  bulk_out_bytes_ += payload.size() + topic.size();
  return next_ticket_;
}

std::size_t Client::bulk_in_window() const {
  std::lock_guard bulk(bulk_m_);
  return bulk_out_.size();
}

std::optional<bool> Client::delivered(std::uint64_t ticket) {
  std::lock_guard lock(tickets_mutex_);
  const auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return false;
  const std::optional<bool> outcome = it->second.outcome;
  if (outcome) tickets_.erase(it);
  return outcome;
}

void Client::forget(std::uint64_t ticket) {
  std::lock_guard lock(tickets_mutex_);
  if (const auto it = tickets_.find(ticket); it != tickets_.end()) {
    ticket_of_mid_.erase(it->second.mid);
    tickets_.erase(it);
  }
}

std::optional<Event> Client::poll(std::chrono::milliseconds timeout) {
  // No timed condition-variable wait: glibc's pthread_cond_clockwait measures a deadline taken
  // from a faked clock (libfaketime, used by the demo and the tests) against the real one, and
  // never wakes. Short sleeps are measured the same way as the clock they are compared with.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (events_.empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lock.lock();
  }
  Event e = std::move(events_.front());
  events_.pop_front();
  if (e.kind == Event::Kind::message) --queued_messages_;
  return e;
}

}  // namespace drivers::mqtt

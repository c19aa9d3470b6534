#include "drivers/mqtt/client.hpp"

#include "drivers/mqtt/reachable.hpp"

#include <mqtt/async_client.h>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace drivers::mqtt {

namespace {

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("mqtt: cannot read the password file " + path);
  std::string s;
  std::getline(in, s);
  return s;
}

bool readable(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

// A failed connect in the owner's words, from paho's return code: for MQTT 3.1.1 the broker's
// CONNACK code (1-5), otherwise a paho error (-1: the TCP or TLS connection itself failed).
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
      // Paho fails the connect with the same code whether no broker answered, the handshake failed
      // (a certificate the CA did not sign) or, after a handshake that succeeded, the certificate
      // does not name the host (X509_check_host, then X509_check_ip_asc: paho.mqtt.c
      // src/SSLSocket.c, SSLSocket_connect). Paho's ssl error callback would tell the handshake's
      // failure apart, but with Debian 12's paho-mqtt-cpp 1.2 it crashed on a stale pointer to the
      // connect options' copy (tried 2026-11-26): each cause is named instead, the host's in full.
      std::string host = uri.substr(6);
      if (const auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
      const bool ip = !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
      return "cannot connect to " + uri + ": no broker listening or unreachable, a TLS handshake that failed (check "
             "mqtt.ca_file against the CA that signed the broker's certificate), or a host name mismatch: the "
             "broker's certificate does not name " + host + " (shackd checks that it names the host of mqtt.uri" +
             (ip ? "; for an IP address it needs subjectAltName IP:" + host : std::string()) + ")";
    }
    default: return "connect failed (paho code " + std::to_string(rc) + ")";
  }
}

// Paho calls these on its own thread: they queue, and wake the keeper.
class Client::ConnectListener : public ::mqtt::iaction_listener {
 public:
  explicit ConnectListener(Client& c) : c_(c) {}
  void on_failure(const ::mqtt::token& tok) override {
    const int rc = tok.get_return_code();
    ++c_.failed_connects_;
    c_.push({Event::Kind::connect_failed, {}, describe_connect_failure(rc, c_.config_.uri), false});
    c_.schedule_retry(false, rc >= 1 && rc <= 5);  // CONNACK 1-5: the broker is there and says no
  }
  void on_success(const ::mqtt::token&) override {}

 private:
  Client& c_;
};

namespace {

// The jitter's seed: differs between processes and between links of one process.
std::uint64_t seed_for(const void* self) {
  const auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return t ^ (static_cast<std::uint64_t>(getpid()) << 32) ^ reinterpret_cast<std::uintptr_t>(self);
}

}  // namespace

Client::Client(ClientConfig config) : config_(std::move(config)), backoff_(config_.reconnect, seed_for(this)) {
  const auto& uri = config_.uri;
  if (uri.rfind("tcp://", 0) != 0 && uri.rfind("ssl://", 0) != 0) {
    throw std::runtime_error("mqtt: uri '" + uri + "' must start with tcp:// or ssl://");
  }
  for (const auto* f : {&config_.ca_file, &config_.cert_file, &config_.key_file}) {
    if (!f->empty() && !readable(*f)) throw std::runtime_error("mqtt: cannot read " + *f);
  }
  if (!config_.password_file.empty()) read_secret(config_.password_file);  // fail now, not on reconnect
  // No persistence: a file store wears the SD card and replays old QoS 1 commands after a restart.
  client_ = std::make_unique<::mqtt::async_client>(uri, config_.client_id);
  // Handlers only queue and make paho's non-blocking calls (paho's thread must never block). Set
  // before connect: paho 1.2.0's set_callback has a lock-order inversion when called while
  // connected (#481).
  client_->set_connected_handler([this](const std::string&) { on_connected(); });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    connected_ = false;
    {
      std::lock_guard lock(mutex_);
      session_up_ = false;
    }
    push({Event::Kind::lost, {}, cause, false});
    schedule_retry(true, false);
  });
  client_->set_message_callback([this](::mqtt::const_message_ptr m) {
    push({Event::Kind::message, m->get_topic(), m->to_string(), m->is_retained()});
  });
}

Client::~Client() {
  try {
    shutdown(std::chrono::milliseconds(1000));
    if (client_) client_->disable_callbacks();
  } catch (...) {
  }
  client_.reset();  // paho's thread is gone before the queue it pushes to
}

void Client::push(Event e) {
  std::lock_guard lock(mutex_);
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

// On paho's thread, at CONNACK: the relays' commands before anything else on this connection,
// then the subscriptions (a clean session forgets them), then what the relays are asked (their
// answers are heard now), then "online". Only then may the owner's other senders publish: each
// checks connected_, which is set last.
void Client::on_connected() {
  const Standing s = standing();
  std::set<std::string> subs;
  {
    std::lock_guard lock(mutex_);
    subs = subscriptions_;
    session_up_ = true;  // a subscribe() from now on is issued at once
  }
  try {
    for (const auto& c : s.commands) {
      client_->publish(::mqtt::make_message(c.topic, c.payload, 1, false));
      ++lane_sent_;
    }
    for (const auto& f : subs) client_->subscribe(f, 1);
    for (const auto& q : s.questions) client_->publish(::mqtt::make_message(q.topic, q.payload, 1, false));
    if (!config_.status_topic.empty()) client_->publish(::mqtt::make_message(config_.status_topic, "online", 1, true));
  } catch (const ::mqtt::exception&) {
    // The connection went as it came: the loss's handler schedules the next try.
  }
  connected_ = true;
  {
    std::lock_guard lock(keep_m_);
    attempting_ = false;
    backoff_.connected();
  }
  keep_cv_.notify_all();
  push({Event::Kind::connected, {}, {}, false});
}

void Client::schedule_retry(bool lost, bool refused) {
  {
    std::lock_guard lock(keep_m_);
    attempting_ = false;
    retry_at_ = std::chrono::steady_clock::now() + (lost ? backoff_.after_loss() : backoff_.after_failure(refused));
  }
  keep_cv_.notify_all();
}

void Client::start() {
  listener_ = std::make_unique<ConnectListener>(*this);
  std::lock_guard lock(keep_m_);
  if (keeping_) return;
  keeping_ = true;
  stopping_ = false;
  retry_at_ = std::chrono::steady_clock::now();  // the first try at once
  keeper_ = std::thread([this] { keep(); });
}

// The keeper: while connected it sleeps until woken (a loss, the stop); otherwise it tries when
// the policy says, in short sleeps (no timed condition-variable wait: under libfaketime, which the
// demo and the tests use, glibc's clocked waits never wake; see poll()).
void Client::keep() {
  pthread_setname_np(pthread_self(), "shackd-mqtt");
  std::unique_lock lock(keep_m_);
  while (!stopping_) {
    if (connected_) {
      keep_cv_.wait(lock, [this] { return stopping_ || !connected_; });
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (attempting_) {
      // Paho answers every attempt by its connect timeout; one that never answers is given up here.
      if (now - attempt_started_ < config_.connect_timeout + std::chrono::seconds(2)) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        lock.lock();
        continue;
      }
      attempting_ = false;
      retry_at_ = now;
    }
    if (now < retry_at_) {
      const auto left = std::min<std::chrono::steady_clock::duration>(retry_at_ - now, std::chrono::milliseconds(10));
      lock.unlock();
      std::this_thread::sleep_for(left);
      lock.lock();
      continue;
    }
    attempting_ = true;
    attempt_started_ = now;
    lock.unlock();
    connect_now();
    lock.lock();
  }
}

void Client::stop_keeper() {
  {
    std::lock_guard lock(keep_m_);
    if (!keeping_) return;
    stopping_ = true;
    keeping_ = false;
  }
  keep_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

void Client::connect_now() {
  // Our own TCP handshake first (reachable.hpp): a broker that is away is told at once, and the
  // next try follows the policy, instead of paho's second to notice.
  if (const auto why = tcp_unreachable(config_.uri, std::chrono::milliseconds(500))) {
    ++failed_connects_;
    push({Event::Kind::connect_failed, {}, describe_connect_failure(-1, config_.uri), false});
    schedule_retry(false, false);
    return;
  }
  auto b = ::mqtt::connect_options_builder()
               .clean_session(true)  // no queued commands delivered late; we resubscribe
               // 3.1.1 alone: paho's default tries 3.1.1 and then 3.1 on the same failure, each
               // from its command queue, whose thread waits up to a second between commands
               // (paho.mqtt.c MQTTAsyncUtils.c: MQTTVERSION_DEFAULT, MQTTAsync_sendThread): a try
               // against a broker that was away took 1-2 s to fail, and missed a broker back
               // for a second. Every broker of the last decade speaks 3.1.1 (mosquitto since 1.3).
               .mqtt_version(MQTTVERSION_3_1_1)
               .keep_alive_interval(config_.keepalive)
               .connect_timeout(config_.connect_timeout);
  if (!config_.status_topic.empty()) b.will(::mqtt::message(config_.status_topic, "offline", 1, true));
  if (!config_.username.empty()) b.user_name(config_.username);
  try {
    // Read at each attempt: an owner who fixes the password file is heard without a restart.
    if (!config_.password_file.empty()) b.password(read_secret(config_.password_file));
  } catch (const std::runtime_error& e) {
    ++failed_connects_;
    push({Event::Kind::connect_failed, {}, e.what(), false});
    schedule_retry(false, true);  // the owner's to fix: tried again slowly
    return;
  }
  if (config_.uri.rfind("ssl://", 0) == 0) {
    auto ssl = ::mqtt::ssl_options_builder();
    if (!config_.ca_file.empty()) ssl.trust_store(config_.ca_file);
    if (!config_.cert_file.empty()) ssl.key_store(config_.cert_file);
    if (!config_.key_file.empty()) ssl.private_key(config_.key_file);
    ssl.enable_server_cert_auth(true);
    // And that the certificate names the host we asked for (paho's MQTTAsync_SSLOptions.verify:
    // "post-connect checks, including that a certificate matches the given host name"). Without
    // it any certificate the CA signed, for any name, was accepted.
    ssl.verify(true);
    b.ssl(ssl.finalize());
  }
  try {
    // Not waited for: the connected handler reports success, the listener a failure.
    client_->connect(b.finalize(), nullptr, *listener_);
  } catch (const ::mqtt::exception& e) {
    ++failed_connects_;
    push({Event::Kind::connect_failed, {}, describe_connect_failure(e.get_return_code(), config_.uri), false});
    schedule_retry(false, false);
  }
}

std::string Client::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

void Client::shutdown(std::chrono::milliseconds timeout) {
  stop_keeper();  // no try after this
  if (!client_) return;
  try {
    if (client_->is_connected()) {
      // disconnect(timeout) lets in-flight messages (this offline) complete, bounded by paho C's
      // own clock; a timed wait on the C++ token would not wake under a faked clock.
      if (!config_.status_topic.empty()) client_->publish(::mqtt::make_message(config_.status_topic, "offline", 1, true));
      // Bounded by us too: paho's own timed wait may never fire (under a faked clock it did
      // not, in the soak), and a stuck shutdown outlives systemd's stop timeout. Short sleeps,
      // as everywhere here; if it gives up, the broker's will says "offline" instead.
      const auto token = client_->disconnect(static_cast<int>(timeout.count()));
      const auto until = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(1);
      while (!token->is_complete() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    } else {
      client_->stop_consuming();
    }
  } catch (const ::mqtt::exception&) {
    // Going away anyway; the broker's will covers what we could not say.
  }
  connected_ = false;
}

void Client::subscribe(const std::string& filter) {
  bool now = false;
  {
    std::lock_guard lock(mutex_);
    subscriptions_.insert(filter);
    now = session_up_;  // else the next connect issues it with the rest
  }
  if (now) {
    try {
      client_->subscribe(filter, 1);
    } catch (const ::mqtt::exception&) {
      // Re-issued on the next connect.
    }
  }
}

bool Client::publish(const std::string& topic, const std::string& payload, int qos, bool retain) {
  if (!connected_) {
    ++dropped_;
    return false;
  }
  try {
    client_->publish(::mqtt::make_message(topic, payload, qos, retain));
    return true;
  } catch (const ::mqtt::exception&) {
    ++dropped_;
    return false;
  }
}

std::uint64_t Client::publish_confirmed(const std::string& topic, const std::string& payload, bool retain) {
  if (!connected_) {
    ++dropped_;
    return 0;
  }
  try {
    auto token = client_->publish(::mqtt::make_message(topic, payload, 1, retain));
    std::lock_guard lock(tickets_mutex_);
    tickets_[++next_ticket_] = std::move(token);
    return next_ticket_;
  } catch (const ::mqtt::exception&) {
    // Paho refuses past its buffer of unsent commands (MQTTASYNC_MAX_BUFFERED_MESSAGES, -12:
    // MQTTAsync_createOptions.maxBufferedMessages, 100 by default, paho.mqtt.c MQTTAsync.h): a
    // burst of a thousand publishes lost most of them that way (issue 49).
    ++dropped_;
    return 0;
  }
}

std::optional<bool> Client::delivered(std::uint64_t ticket) {
  std::shared_ptr<::mqtt::delivery_token> token;
  {
    std::lock_guard lock(tickets_mutex_);
    const auto it = tickets_.find(ticket);
    if (it == tickets_.end()) return false;
    token = it->second;
  }
  bool ok = false;
  try {
    // try_wait reads the token's state under its lock (is_complete() does not) and throws when
    // paho completed it with an error.
    if (!token->try_wait()) return std::nullopt;
    ok = true;
  } catch (const ::mqtt::exception&) {
    ok = false;
  }
  forget(ticket);
  return ok;
}

void Client::forget(std::uint64_t ticket) {
  std::lock_guard lock(tickets_mutex_);
  tickets_.erase(ticket);
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
  if (e.kind == Event::Kind::connect_failed) last_failure_ = e.payload;
  if (e.kind == Event::Kind::connected) last_failure_.clear();
  return e;
}

}  // namespace drivers::mqtt

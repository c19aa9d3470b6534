#pragma once
// The MQTT connection, over paho.mqtt.cpp. Paho's callbacks run on paho's own thread and may
// not block there (docs/protocols.md §3.3): they queue events, which the owner drains with poll()
// on its own thread, and make only paho's non-blocking calls (publish, subscribe: "you can issue
// any non-blocking call within a callback", paho.mqtt.c #425). Publishing never queues while
// disconnected: a command that cannot go now is dropped and reported, because an ON delivered
// minutes late is a hazard; what stands for the relays (link.hpp) goes first at the next connect.
//
// The link keeps itself connected on a thread of its own ("shackd-mqtt"), by its own policy
// (reconnect.hpp), not paho's automatic reconnect: a try within half a second of a loss or a
// failure, jittered, whatever the owner's cycle is doing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "drivers/mqtt/link.hpp"
#include "drivers/mqtt/reconnect.hpp"

namespace mqtt {
class async_client;
class delivery_token;
}

namespace drivers::mqtt {

struct ClientConfig {
  std::string uri = "tcp://127.0.0.1:1883";  // tcp:// or ssl://
  std::string client_id = "shackd";
  std::string username;
  std::string password_file;  // the password is read from here, never from the config itself
  std::string ca_file;        // ssl://: the broker's CA
  std::string cert_file;      // ssl:// client certificate and key, if the broker wants them
  std::string key_file;
  std::chrono::seconds keepalive{30};
  ReconnectPolicy reconnect;
  // A connect attempt that has no answer by then has failed (a broker that accepts TCP and never
  // answers CONNECT); the next try follows the policy.
  std::chrono::seconds connect_timeout{5};
  // "online"/"offline", retained; the last will. Empty: none (a short-lived command's client).
  std::string status_topic = "shack/status";
};

class Client final : public Link {
 public:
  // Throws std::runtime_error with a clear reason for a bad URI or an unreadable password file.
  explicit Client(ClientConfig config);
  ~Client();  // shutdown() if still connected
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting; reconnects by itself (reconnect.hpp). Never blocks on the broker.
  void start() override;
  // Publishes `offline` (retained) itself, since paho's clean disconnect suppresses the will,
  // then disconnects, each bounded by `timeout`.
  void shutdown(std::chrono::milliseconds timeout) override;
  void shutdown() { shutdown(std::chrono::milliseconds(2000)); }

  // Every subscription is re-issued after each (re)connect: clean sessions forget them.
  void subscribe(const std::string& filter) override;
  // false (and nothing queued) when disconnected or the client refused it.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) override;
  // Follows paho's delivery token: acknowledged (PUBACK), failed, or in flight. Thread-safe.
  std::uint64_t publish_confirmed(const std::string& topic, const std::string& payload, bool retain) override;
  std::optional<bool> delivered(std::uint64_t ticket) override;
  void forget(std::uint64_t ticket) override;

  // The next event, waiting at most `timeout`.
  std::optional<Event> poll(std::chrono::milliseconds timeout) override;
  bool connected() const override { return connected_; }
  // Why the last connect attempt failed ("" once connected).
  std::string last_failure() const;
  const ClientConfig& config() const { return config_; }
  long long dropped_publishes() const { return dropped_; }
  long long dropped_incoming() const override { return dropped_in_; }
  long long failed_connects() const { return failed_connects_; }
  // Relay commands the lane sent at a connect, from the connection's callback.
  long long lane_sent() const { return lane_sent_; }
  // At most this many messages wait for the owner: a flood on the broker cannot grow memory
  // without bound (connection events are always kept).
  static constexpr std::size_t kMaxQueuedMessages = 4096;

 private:
  void push(Event e);
  void keep();  // the keeper's thread: a try whenever the policy says
  void stop_keeper();
  void connect_now();  // on the keeper's thread
  void on_connected();  // paho's thread: the relays' lane first, then the session's subscriptions
  // A try ended without a connection (`refused`: the broker answered and said no), or the
  // connection was lost: the next try is scheduled.
  void schedule_retry(bool lost, bool refused);
  class ConnectListener;
  ClientConfig config_;
  std::unique_ptr<ConnectListener> listener_;
  std::string last_failure_;  // guarded by mutex_
  mutable std::mutex mutex_;
  std::deque<Event> events_;
  std::set<std::string> subscriptions_;
  bool session_up_ = false;  // guarded by mutex_: the subscriptions were (re)issued on this connection
  std::atomic<bool> connected_{false};
  std::atomic<long long> dropped_{0};
  std::atomic<long long> dropped_in_{0};
  std::atomic<long long> failed_connects_{0};
  std::atomic<long long> lane_sent_{0};
  std::size_t queued_messages_ = 0;  // guarded by mutex_
  // The keeper: its thread, the policy's state and when the next try is due.
  std::mutex keep_m_;
  std::condition_variable keep_cv_;
  bool keeping_ = false, stopping_ = false, attempting_ = false;  // guarded by keep_m_
  std::chrono::steady_clock::time_point retry_at_{}, attempt_started_{};  // guarded by keep_m_
  Backoff backoff_;  // guarded by keep_m_
  std::thread keeper_;
  // publish_confirmed's tickets and their tokens.
  std::mutex tickets_mutex_;
  std::uint64_t next_ticket_ = 0;
  std::map<std::uint64_t, std::shared_ptr<::mqtt::delivery_token>> tickets_;
  // Last, so that it goes first: paho's thread may call back into mutex_ and events_ until the
  // client is destroyed (~Client also disables the callbacks before that).
  std::unique_ptr<::mqtt::async_client> client_;
};

}  // namespace drivers::mqtt

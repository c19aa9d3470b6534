#pragma once
// The MQTT connection, over paho.mqtt.cpp. Paho's callbacks run on paho's own thread and may
// not block there (docs/protocols.md §3.3), so they only queue events; the owner drains them with
// poll() on its own thread. Publishing never queues while disconnected: a relay command that
// cannot go now is dropped and reported, because an ON delivered minutes late is a hazard.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "drivers/mqtt/link.hpp"

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
  std::chrono::seconds reconnect_min{1};
  std::chrono::seconds reconnect_max{30};
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

  // Starts connecting; reconnects by itself with backoff. Never blocks on the broker.
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
  // At most this many messages wait for the owner: a flood on the broker cannot grow memory
  // without bound (connection events are always kept).
  static constexpr std::size_t kMaxQueuedMessages = 4096;

 private:
  void push(Event e);
  void connect_now();  // on the owner's thread
  class ConnectListener;
  ClientConfig config_;
  std::unique_ptr<ConnectListener> listener_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::seconds backoff_{0};
  bool retry_pending_ = false;
  std::string last_failure_;  // guarded by mutex_
  mutable std::mutex mutex_;
  std::deque<Event> events_;
  std::set<std::string> subscriptions_;
  std::atomic<bool> connected_{false};
  std::atomic<long long> dropped_{0};
  std::atomic<long long> dropped_in_{0};
  std::size_t queued_messages_ = 0;  // guarded by mutex_
  // publish_confirmed's tickets and their tokens.
  std::mutex tickets_mutex_;
  std::uint64_t next_ticket_ = 0;
  std::map<std::uint64_t, std::shared_ptr<::mqtt::delivery_token>> tickets_;
  // Last, so that it goes first: paho's thread may call back into mutex_ and events_ until the
  // client is destroyed (~Client also disables the callbacks before that).
  std::unique_ptr<::mqtt::async_client> client_;
};

}  // namespace drivers::mqtt

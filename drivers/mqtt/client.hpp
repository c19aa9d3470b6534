#pragma once
// The MQTT connection, over libmosquitto (Eclipse Mosquitto's client library). One thread of its
// own ("shackd-mqtt") runs the connection: it connects, reads and writes, and keeps itself
// connected by its own policy (reconnect.hpp: a try within half a second of a loss or a failure,
// jittered). Callbacks run on that thread: they queue events, which the owner drains with poll()
// on its own thread. Publishing never queues while disconnected: a command that cannot go now is
// dropped and reported, because an ON delivered minutes late is a hazard; what stands for the
// relays (link.hpp) goes first at the next connect, and nothing of a lost connection is sent on
// the next (each connection starts from a fresh client state: libmosquitto would otherwise send
// again, after a reconnect, the QoS 1 messages that were in flight when the link went).
//
// Issue 56: paho.mqtt.c, used before, notices a connection's progress only when its receive
// thread's one-second poll comes round: a connect took 0.1-1.1 s against a broker on loopback,
// and a broker back for a second was missed. libmosquitto waits on the socket itself.
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
#include <thread>

#include "drivers/mqtt/link.hpp"
#include "drivers/mqtt/reconnect.hpp"

struct mosquitto;
struct mosquitto_message;

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
  // Publishes `offline` (retained) itself, since a clean disconnect suppresses the will, waits for
  // its acknowledgement (everything sent before it was handled), then disconnects: all within
  // `timeout` (the wait at most 3/4 of it).
  void shutdown(std::chrono::milliseconds timeout) override;
  void shutdown() { shutdown(std::chrono::milliseconds(2000)); }

  // Every subscription is re-issued after each (re)connect: clean sessions forget them.
  void subscribe(const std::string& filter) override;
  // The relays' lane: to the library at once. false (and nothing queued) when disconnected or
  // the client refused it.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) override;
  // The bulk lane (lanes.hpp): handed to the library only while fewer than kBulkWindow bulk
  // messages (and kBulkWindowBytes) are in it not yet done (a QoS 0 message written to the
  // socket, a QoS 1 message acknowledged: libmosquitto's on_publish); waits at most `wait` for
  // room. libmosquitto writes its queue in order on one socket: a relay command published meanwhile
  // goes out behind this window, never behind a burst of discovery or the outbox's backlog.
  bool publish_bulk(const std::string& topic, const std::string& payload, int qos, bool retain,
                    std::chrono::milliseconds wait) override;
  // The bulk lane's, with the broker's PUBACK followed: acknowledged, failed (the connection went
  // first), or in flight; never waits (0: no room in the window now). Thread-safe.
  std::uint64_t publish_confirmed(const std::string& topic, const std::string& payload, bool retain) override;
  std::optional<bool> delivered(std::uint64_t ticket) override;
  void forget(std::uint64_t ticket) override;

  // The next event, waiting at most `timeout`.
  std::optional<Event> poll(std::chrono::milliseconds timeout) override;
  bool connected() const override { return connected_; }
  // Connected, and the broker acknowledged (SUBACK) every subscription issued on this connection:
  // from here on a message published to a subscribed topic is delivered (a test waits for this,
  // not for a sleep).
  bool subscribed() const;
  // Why the last connect attempt failed ("" once connected).
  std::string last_failure() const;
  const ClientConfig& config() const { return config_; }
  long long dropped_publishes() const { return dropped_; }
  long long dropped_incoming() const override { return dropped_in_; }
  long long failed_connects() const { return failed_connects_; }
  // Relay commands the lane sent at a connect, first on it.
  long long lane_sent() const { return lane_sent_; }
  // Bulk messages in the library not yet done (the window's use now), and how many bulk
  // publishes found the window full and waited.
  std::size_t bulk_in_window() const;
  long long bulk_waited() const { return bulk_waited_; }
  static constexpr std::size_t kBulkWindow = 16;
  static constexpr std::size_t kBulkWindowBytes = 32 * 1024;
  // At most this many messages wait for the owner: a flood on the broker cannot grow memory
  // without bound (connection events are always kept).
  static constexpr std::size_t kMaxQueuedMessages = 4096;

 private:
  enum class State { idle, connecting, connected };
  void push(Event e);
  void keep();          // the connection's thread
  void try_connect();   // on it: a TCP probe, then libmosquitto's connect
  void ended(bool lost, bool refused, const std::string& why);  // the connection (or its attempt) ended
  void fresh();         // a fresh client state (libmosquitto's reinitialise) with every option set again
  void fresh_locked();  // fresh()'s part under api_m_: the state and its options
  void on_connect(int rc);
  void on_message(const mosquitto_message& m);
  void on_publish(int mid);
  void on_subscribe(int mid);
  // shutdown()'s first part: "offline" published and its PUBACK awaited until `until`; false when
  // not connected, refused, or not acknowledged in time.
  bool say_offline_acknowledged(std::chrono::steady_clock::time_point until);
  void subscribe_now(const std::string& filter);  // on this connection, its SUBACK awaited
  static void connect_cb(mosquitto*, void* self, int rc);
  static void disconnect_cb(mosquitto*, void* self, int rc);
  static void message_cb(mosquitto*, void* self, const mosquitto_message* m);
  static void publish_cb(mosquitto*, void* self, int mid);
  static void subscribe_cb(mosquitto*, void* self, int mid, int qos_count, const int* granted_qos);

  ClientConfig config_;
  std::string host_;
  int port_ = 1883;
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
  // publish_confirmed's tickets: by ticket, its message id and its outcome (nullopt: in flight).
  std::mutex tickets_mutex_;
  std::uint64_t next_ticket_ = 0;
  struct Ticket {
    int mid = 0;
    std::optional<bool> outcome;
  };
  std::map<std::uint64_t, Ticket> tickets_;
  std::map<int, std::uint64_t> ticket_of_mid_;
  // Subscriptions issued on this connection whose SUBACK has not come, by message id. Taken
  // before api_m_.
  mutable std::mutex sub_m_;
  std::set<int> subacks_pending_;
  // The bulk lane's window: by message id, each bulk message's size, from its hand-over to the
  // library until on_publish; emptied when the connection ends. Taken before api_m_.
  mutable std::mutex bulk_m_;
  std::map<int, std::size_t> bulk_out_;
  std::size_t bulk_out_bytes_ = 0;
  std::atomic<long long> bulk_waited_{0};
  // The stop's "offline" (shutdown()): its message id and whether its PUBACK came. Under bulk_m_.
  std::optional<int> goodbye_mid_;
  bool goodbye_acked_ = false;
  bool bulk_room_locked() const {
    return bulk_out_.empty() || (bulk_out_.size() < kBulkWindow && bulk_out_bytes_ < kBulkWindowBytes);
  }
  // The connection's thread and what only it touches (state_, the policy, the attempt's times);
  // api_m_ keeps other threads' calls (publish, subscribe) off the client state while that thread
  // makes it fresh.
  std::mutex api_m_;
  State state_ = State::idle;
  bool refused_ = false;       // the broker's CONNACK refused this attempt (told already)
  std::chrono::steady_clock::time_point retry_at_{}, attempt_started_{};
  Backoff backoff_;
  std::atomic<bool> stopping_{false};
  // The connection's loop waits at most this for its socket (a publish or a stop wakes it before);
  // idle, it naps at most this between looks at the next try's time and a stop.
  static constexpr std::chrono::milliseconds kLoopWait{1000}, kIdleNap{100};
  std::thread keeper_;
  mosquitto* mosq_ = nullptr;
};

// A failed connect in the owner's words: the broker's CONNACK code (1-5), or -1: the TCP or TLS
// connection itself failed.
std::string describe_connect_failure(int rc, const std::string& uri);

}  // namespace drivers::mqtt

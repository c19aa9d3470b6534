#pragma once
// Commanded is not observed. The manager sends a relay's desired state when it changes, again on
// a resend interval, and at once after a reconnect; it believes the state only when the device
// reports it. A relay that does not confirm in time raises relay_unconfirmed and is retried with
// backoff. Commands always go at QoS 1 and never retained: a retained ON would switch a Tasmota
// relay back on when it reboots. Each relay's command in force stands with the link (link.hpp),
// which sends it first at every connect.
//
// Power lost (issue 56): a relay that starts again (its uptime, where its protocol says it: a
// later start than the one last known), or that comes back reporting OFF while ON is wanted, has
// lost its power, and the load behind it too. The manager says so (take_power_news), and the
// core takes the load as OFF since then: it must earn its start again. Until a relay that came
// back (or every relay, at shackd's start) has said its state and uptime, an ON is held: an OFF
// goes at once, an ON only to a relay known not to have lost its power meanwhile.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/power_on_watch.hpp"
#include "drivers/mqtt/relay_alarm.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "rules/time.hpp"

namespace drivers::mqtt {

using rules::SteadyTime;

// In milliseconds: the config gives whole seconds, but a test on the stepped clock (and a relay
// on a fast LAN) may time a confirmation in less than one.
struct RelayTiming {
  std::chrono::milliseconds resend_interval{60'000};
  std::chrono::milliseconds confirm_timeout{10'000};
  std::chrono::milliseconds retry_min{5'000};
  std::chrono::milliseconds retry_max{120'000};
  bool operator==(const RelayTiming&) const = default;
};

struct RelayStatus {
  std::optional<bool> desired;
  std::optional<bool> observed;          // only what the device said
  std::optional<bool> available;         // from its availability topic; unknown until it speaks
  std::optional<SteadyTime> observed_at;
  std::optional<SteadyTime> observed_since;  // when the observed state last changed
  std::optional<SteadyTime> sent_at;     // last command that went out
  // Until when the last ON that went out keeps the load on by the device's own dead-man (Tasmota
  // PulseTime, Shelly toggle_after); none while no such ON stands.
  std::optional<SteadyTime> armed_until;
  std::optional<SteadyTime> confirm_by;  // desired not yet confirmed: the deadline
  std::optional<SteadyTime> retry_at;
  bool unconfirmed = false;              // past the deadline without a matching report
  bool reassert_due = false;             // it reported the wrong state or came back: send at the next tick
  int retries = 0;
  int speed_pct = -1;
  std::optional<double> power_w;         // the load's draw, where the relay meters it
  std::optional<SteadyTime> power_at;
  std::optional<SteadyTime> heard_at;    // its last message of any kind
  std::optional<SteadyTime> boot_at;     // when it last started, from its uptime
  std::optional<SteadyTime> offline_at;  // it said it was offline (its will), not back since
  std::optional<SteadyTime> last_of_prior_life;  // when it came back: the last sign of it before
  // Its word (state and uptime) awaited since: after shackd's start, or after it came back; an
  // ON is held until then (or kWordWait after the link connected).
  std::optional<SteadyTime> awaiting_since;
  bool await_at_start = false;           // awaited since shackd's start (else: it came back)
  bool judge_from_start = false;         // its first uptime since shackd's start is judged against it
};

// A relay that lost its power: the load behind it is OFF since `off_since`. `came_on`: it came
// back ON by itself (its power-on state), and is switched OFF now unless its load may start.
struct PowerNews {
  std::string relay_id;
  SteadyTime off_since;
  bool came_on = false;
  std::string why;  // for people: "started 212 s ago (its uptime)", "came back OFF"
};

class RelayManager {
 public:
  // The least time between two commands to one relay when it is put right (a re-assert).
  static constexpr std::chrono::milliseconds kReassertGap{1000};
  // How long a relay's word is awaited once the link is connected (its answer to the question
  // the link asks at each connect takes milliseconds on a LAN).
  static constexpr std::chrono::seconds kWordWait{5};
  // Uptime is in whole seconds and arrives a moment late: two starts closer than this are one.
  static constexpr std::chrono::seconds kBootSlack{5};
  // publish(topic, payload): true when the client took it. QoS 1 and retain=false are the
  // manager's to choose, not the callback's.
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, int qos, bool retain)>;

  // The relays' lane (link.hpp): what stands for relay `id` at the link in force; empty withdraws.
  using Stand = std::function<void(const std::string& id, std::vector<Outgoing> commands)>;
  // What the link asks each relay at each connect (its state and uptime, state_query) is set on
  // the link by its owner (link.hpp: ask_on_connect), with the link.
  RelayManager(std::vector<RelayConfig> relays, RelayTiming timing, Publish publish, Stand stand = {});

  std::vector<std::string> subscriptions() const;
  // true when `topic` is one the relays are subscribed for: their states, answers and wills, read
  // by the intake past a cycle's share of a flood (daemon/intake/mqtt_intake.hpp).
  bool listens_to(const std::string& topic) const;
  bool has(const std::string& id) const { return status_.count(id) > 0; }
  const RelayConfig& config(const std::string& id) const;
  // The same, shared for as long as its holder keeps it (a cycle's record: daemon/core/).
  std::shared_ptr<const RelayConfig> shared_config(const std::string& id) const;

  // Sends at once when the desired state changes.
  void set_desired(const std::string& id, bool on, SteadyTime now);
  void set_speed(const std::string& id, int percent);
  // No state is desired any more: nothing is resent or awaited (a relay the safe state at a start
  // switched OFF that no load turns out to switch). Unknown ids are ignored.
  void release(const std::string& id);
  // Resends, retries, dead-man refreshes and confirmation deadlines.
  void tick(SteadyTime now);
  // true when the message was about one of the relays. `retained`: the broker's copy, sent at
  // shackd's subscription (not news that the relay said it now).
  bool on_message(const std::string& topic, const std::string& payload, SteadyTime now, bool retained = false);
  // After a (re)connect: re-assert every desired state now, instead of anything queued (the link
  // sent what stood at its CONNACK already; this follows them up as sent); each relay asked its
  // state and uptime.
  void on_connected(SteadyTime now);
  void on_lost() { connected_at_.reset(); }
  // What shackd's start knows of the time before it (daemon/store/last_run.hpp).
  struct StartKnown {
    // Shackd's last record, as a monotonic instant, when the host did not restart since: a relay
    // that started after it lost its power while shackd was away.
    std::optional<SteadyTime> known_up;
    // The host itself restarted (another boot): it has been up since then. A relay that started
    // less than kHostBootSlack before it lost its power with it.
    std::optional<SteadyTime> host_up_since;
    // A relay whose protocol cannot say its uptime, whose load was ON and that says nothing
    // within kWordWait: taken as having lost its power (the host restarted after an unclean stop).
    bool lost_without_word = false;
    std::vector<std::string> stored_on;  // the relays whose load was ON at shackd's last record
  };
  static constexpr std::chrono::minutes kHostBootSlack{10};
  // shackd's start: each relay's first uptime is judged against what the start knows, and the
  // word of each relay whose load was ON is awaited before an ON goes to it (a relay that stayed
  // OFF after a cut would otherwise be switched ON by the re-assert of the stored state).
  void await_word(StartKnown known, SteadyTime now);
  std::vector<PowerNews> take_power_news();
  // A reload's new manager takes what `old` knew of each relay it still has at the same device
  // (protocol, topic, channel): the state wanted and seen, an ON held for its word, its start, a
  // dead-man's time; and the news and alarms not yet taken, and what shackd's start knew. Without
  // it a reload forgot them: an ON held for a relay that had just come back went at the next
  // cycle, and a power cut judged just before was never told. Each carried command stands again
  // with the new link (sent at its CONNACK).
  void carry_over(RelayManager&& old, SteadyTime now);

  const RelayStatus& status(const std::string& id) const { return status_.at(id); }
  // How each relay powers up after a cut, as its device last said (asked at each connect, when
  // it comes back online, and every few hours: power_on_watch.hpp).
  const PowerOnStatus& power_on(const std::string& id) const { return power_on_.status(id); }
  std::vector<RelayAlarm> take_alarms();
  long long commands_sent() const { return sent_; }

 private:
  void send(const RelayConfig& r, RelayStatus& s, SteadyTime now);
  // No state wanted of it: nothing stands, is resent, awaited or retried (release, a lost power).
  void want_nothing(const std::string& id, RelayStatus& s);
  bool holds_on(const RelayStatus& s) const { return s.awaiting_since && s.desired == true; }
  void await(const RelayConfig& r, RelayStatus& s, SteadyTime now, bool at_start);
  // An ON with a dead-man that no refresh reached in time (the broker away): the device switched
  // its load OFF when it ran out. Said as news, as a power cut is; true when it did.
  bool dead_man_ran_out(const RelayConfig& r, RelayStatus& s, SteadyTime now);
  // It connected to the broker again (its will seen, or a live "online" where it was online).
  void came_back(const RelayConfig& r, RelayStatus& s, std::optional<SteadyTime> heard_before, SteadyTime now);
  // The relay's word judged: `lost` (power lost, since `off_since`) or not; an ON it held goes.
  void judged(const RelayConfig& r, RelayStatus& s, SteadyTime now, bool lost, SteadyTime off_since, std::string why);
  void on_uptime(const RelayConfig& r, RelayStatus& s, std::int64_t uptime_s, SteadyTime now);

  const std::shared_ptr<const RelayConfig>& find(const std::string& id) const;  // throws std::out_of_range
  SharedRelayConfigs relays_;  // made once: the power-on watch holds the same ones
  RelayTiming timing_;
  Publish publish_;
  std::map<std::string, RelayStatus> status_;
  PowerOnWatch power_on_;
  std::vector<std::string> filters_;  // subscriptions(), once
  std::vector<RelayAlarm> alarms_;
  Stand stand_;
  std::vector<PowerNews> power_news_;
  std::optional<SteadyTime> connected_at_;  // the link's last connect, while connected
  StartKnown start_;
  int rpc_id_ = 1;
  long long sent_ = 0;
};

}  // namespace drivers::mqtt

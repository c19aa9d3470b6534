#pragma once
// The daemon, the composition root (issue 57 item 4): it makes the components, starts, reloads and
// stops them, and runs the cycle: the safety loop's step (read -> decide -> switch -> ping), then
// each component after the relays in a fixed order, each in its own guard. The glue that turns a
// cycle into each component's input lives with the component (its after_cycle / report face) or,
// where it joins several, in a loop/ file of its own (safety_loop, mqtt_desk, shadow_side,
// cycle_outputs, site_parts).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/events/event_log.hpp"
#include "daemon/loop/mqtt_desk.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/loop/reload_job.hpp"
#include "daemon/loop/safe_start.hpp"
#include "daemon/loop/safety_loop.hpp"
#include "daemon/loop/seams.hpp"
#include "daemon/loop/shadow_side.hpp"
#include "daemon/metrics/exporter.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/store_side.hpp"

namespace shackd {

struct RunOptions {
  std::string config_path;
  bool dry_run = false;    // decide and publish, send no relay command
  bool shadow = false;     // beside another controller: command nothing, record the disagreements (issue 60)
  bool once = false;       // one poll and one decision, printed; nothing actuated or published
  // `once`: how long start() listens for a live message from each MQTT sensor first.
  std::chrono::milliseconds once_sensor_wait{5000};
};

class Daemon {
 public:
  explicit Daemon(RunOptions options, Seams seams = {});
  ~Daemon();

  // Loads the config, migrates the database, applies the profiles, starts devices and MQTT (for
  // `once`: listens for the MQTT sensors).
  // Returns an exit code when it cannot start (78: the config or schema is wrong).
  std::optional<int> start();
  // Runs until SIGTERM/SIGINT; returns the exit code.
  int run();
  // One cycle: the safety loop's step, then each component after the relays.
  void cycle();
  // The components, as a test or `once` reads them. The safety loop: the decision, the snapshot,
  // the site in force, the alarms, the loop's figures.
  const SafetyLoop& loop() const { return loop_; }
  // The metrics endpoint: its port while it serves, the frames it was handed (metrics/exporter.hpp).
  const MetricsExporter& metrics() const { return metrics_; }
  // Waits, at most `bound`, until the side jobs' threads have done what this cycle handed them
  // (the recorder's writes, the publisher's messages): for tests that read the database or the
  // broker after a cycle. False at the bound.
  bool settle(std::chrono::milliseconds bound = std::chrono::seconds(10));
  // The events (the outbox's figures now: its thread acknowledges between cycles).
  const EventLog& events() const { return events_; }
  // The start (daemon/loop/safe_start.hpp): whether the stored state (profiles, loads' states,
  // site id) has been taken, until when every cycle commands every relay OFF (daemon_open.cpp,
  // issue 44 item 4); the exit code when the database, opened after the start, could not be.
  const SafeStart& start_state() const { return start_; }

 private:
  // Issue 44 item 4 (daemon_open.cpp): the database opened, migrated and read on a thread of its
  // own (daemon/loop/store_open.hpp), never the loop's; what it read is taken whole at the top of
  // a cycle. An exit code if it failed.
  std::optional<int> take_store();
  // At the top of a cycle until the stored state is taken: takes it, else runs the safe state's
  // cycle (every relay OFF). False: this cycle is done.
  bool stored_state_taken();
  void safe_cycle();
  // The read step both cycles share: the devices polled, each miner's report taken (never waited
  // for), then what came in on MQTT. The loop's times after the poll.
  struct ReadTimes : SafetyLoop::Times {
    bool connected = false;  // the link (re)connected since the last cycle
  };
  ReadTimes read_step(rules::SteadyTime started);
  // After the relays: the components in their fixed order, each in its own guard.
  void after_cycle(const ReadTimes& t, bool decided, bool safe_state);
  // SIGHUP (daemon_config.cpp): the reload built aside on its thread, taken whole at the top of a
  // later cycle, or refused whole.
  void begin_reload();
  void finish_reload();
  // The site a config makes, taken whole (a start, a reload); the loads it no longer has whose
  // relay the config still defines returned, to be switched OFF once the reload is in force.
  std::vector<LoadRef> take_profiles(PreparedSite&& ready);
  void shutdown();
  // What the components see of the site's names, and where events go (the start, the stored
  // state, a reload).
  void configure_names();

  RunOptions options_;
  Seams seams_;
  Config config_;
  // The store's side (daemon/recorder/store_side.hpp): the database's lock, the database until the
  // recorder takes it, whose thread alone uses it from then on (the safety core never waits on the
  // disk: issue 44), this cycle's records, the journal, the day's energy.
  StoreSide storage_;
  // The safety loop (daemon/loop/safety_loop.hpp): the core, the loop's figures, the devices'
  // health, the alarms, the charge block, the miners' APIs, the watchdog's line.
  SafetyLoop loop_;
  // The link, its relays and the links a reload replaced (daemon/loop/mqtt_links.hpp).
  MqttLinks mqtt_;
  // The events (daemon/events/event_log.hpp): every component's Events sink. After mqtt_:
  // destroyed first, the outbox's thread gone before the link it sends on.
  EventLog events_;
  // What goes out each cycle, rendered and sent on its own thread. After mqtt_: destroyed first.
  Publisher publisher_;
  ShadowSide shadow_;  // shadow mode: where its decisions and the relays differ (issue 60)
  MqttDesk desk_;  // what comes in on MQTT, handed on (after what it hands to: daemon/loop/mqtt_desk.hpp)
  JobWith<ReloadOutcome> reloader_{"reload"};  // the reloader's thread and its outcome, taken once it has finished
  // The metrics endpoint: started with the daemon and by a reload that changes `metrics:`; one
  // that cannot listen is retried each minute, the loop going on.
  MetricsExporter metrics_;
  // The start on a slow card (daemon/loop/safe_start.hpp): the opener's thread and what it read,
  // the safe state's times until the stored state is taken. Last: the opener is joined first.
  SafeStart start_;
};

}  // namespace shackd

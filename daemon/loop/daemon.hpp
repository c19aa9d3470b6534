#pragma once
// The daemon: read -> decide -> apply -> publish -> persist, once per interval.
#include <sys/types.h>

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <utility>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/config/mqtt_settings.hpp"
#include "daemon/core/overrides.hpp"
#include "daemon/core/safety_core.hpp"
#include "daemon/loop/alarm_watch.hpp"
#include "daemon/loop/charge_block.hpp"
#include "daemon/loop/device_log.hpp"
#include "daemon/devices/device_alarms.hpp"
#include "daemon/events/event_log.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/loop/poller.hpp"
#include "daemon/loop/reload_job.hpp"
#include "daemon/loop/safe_start.hpp"
#include "daemon/loop/seams.hpp"
#include "daemon/loop/site_build.hpp"
#include "daemon/metrics/exporter.hpp"
#include "daemon/miners/fleet.hpp"
#include "daemon/intake/mqtt_intake.hpp"
#include "daemon/intake/setting_desk.hpp"
#include "daemon/publish/cycle_publisher.hpp"
#include "daemon/events/outbox.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/recorder/energy_side.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/recorder/store_side.hpp"
#include "daemon/reloader/one_job.hpp"
#include "daemon/shadow/shadow_watch.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/journal_lines.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/run_database.hpp"
#include "daemon/store/site_identity.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/host/host_watch.hpp"
#include "daemon/system/instance_lock.hpp"
#include "daemon/system/systemd_line.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/readings.hpp"
#include "rules/decision.hpp"

namespace shackd {

struct RunOptions {
  std::string config_path;
  bool dry_run = false;    // decide and publish, send no relay command
  bool shadow = false;     // beside another controller: command nothing, record the disagreements (issue 60)
  bool once = false;       // one poll and one decision, printed; nothing actuated or published
};

class Daemon {
 public:
  explicit Daemon(RunOptions options, Seams seams = {});
  ~Daemon();

  // Loads the config, migrates the database, applies the profiles, starts devices and MQTT.
  // Returns an exit code when it cannot start (78: the config or schema is wrong).
  std::optional<int> start();
  // Runs until SIGTERM/SIGINT; returns the exit code.
  int run();
  // One cycle: poll, snapshot, decide, apply, publish, persist.
  void cycle();
  const rules::Decision& decision() const { return core_.decision(); }
  const std::vector<LoadRef>& loads() const { return core_.site().loads; }
  const StoredProfiles& profiles() const { return core_.site().profiles; }
  const rules::Snapshot& snapshot() const { return core_.snapshot(); }
  const DeviceAlarmWatch& device_alarms() const { return alarms_.device_alarms(); }
  const LoopStats& loop_stats() const { return stats_; }
  // The metrics endpoint's port while it serves (0: any free port was asked for); nullopt: off.
  std::optional<int> metrics_port() const { return metrics_.port(); }
  // Frames the endpoint was handed: the loop fills one only while somebody scrapes.
  std::optional<std::uint64_t> metrics_frames() const { return metrics_.frames(); }
  std::string status_text() const { return status_line(); }  // systemd's STATUS= line
  // Waits, at most `bound`, until the side jobs' threads have done what this cycle handed them
  // (the recorder's writes, the publisher's messages): for tests that read the database or the
  // broker after a cycle. False at the bound.
  bool settle(std::chrono::milliseconds bound = std::chrono::seconds(10));
  // The recorder's figures as of the last cycle.
  const RecorderStats& recorder_stats() const { return storage_.stats(); }
  // The events outbox's figures now (its thread acknowledges between cycles).
  EventOutbox::Stats outbox_stats() const { return events_.outbox().stats(); }
  // One message from the broker: a relay's state or power, a sensor, an override, Home
  // Assistant's birth message.
  void on_message(const std::string& topic, const std::string& payload, bool retained, rules::SteadyTime now);
  // For `once`: listens up to `bound` for a live message from each MQTT sensor.
  void listen_for_sensors(std::chrono::milliseconds bound);
  // Whether the stored state (profiles, loads' states, site id) has been taken; until it is, every
  // cycle commands every relay OFF (daemon_open.cpp, issue 44 item 4).
  bool store_taken() const { return start_.taken(); }
  // Set when the database, opened after the start, could not be: run() stops with it (78, 75, 65
  // as start() would have returned).
  std::optional<int> exit_code() const { return start_.exit_code(); }

 private:
  // What a config makes of the site, computed aside (daemon/loop/site_build.hpp), taken whole (take_profiles).
  using Prepared = PreparedSite;
  using LoadResult = SiteLoad;
  using MqttSide = MqttLinks::Side;
  // The site a config makes, taken whole (a start, a reload); returns the loads it no longer has
  // whose relay the config still defines, for switch_off_removed.
  std::vector<LoadRef> take_profiles(Prepared&& ready);
  void switch_off_removed(const std::vector<LoadRef>& removed);
  std::vector<std::unique_ptr<PolledDevice>> make_workers(const Config& config) const;
  void start_devices();
  // The miners' APIs (daemon/miners/fleet.hpp) after the relays: what each is to say, through
  // the history and MQTT (daemon_miners.cpp). Each miner in its own guard.
  void miners_bookkeeping(rules::SteadyTime now, std::int64_t wall);
  MqttSide make_mqtt(const Config& config) const;
  void start_mqtt();
  // Issue 44 item 4 (daemon_open.cpp): the database opened, migrated and read on a thread of its
  // own (daemon/loop/store_open.hpp), never the loop's; what it read is taken whole at the top of
  // a cycle.
  std::optional<int> take_store();  // the opener's result, when it has one; an exit code if it failed
  void safe_cycle();  // a cycle before the stored state is taken: every relay OFF
  // The read step both cycles share: the devices polled, each miner's report taken (never waited
  // for), then what came in on MQTT handled. The loop's times after the poll.
  struct ReadTimes {
    rules::SteadyTime now;
    std::int64_t wall = 0;
    bool connected = false;  // the link (re)connected since the last cycle
  };
  ReadTimes read_step(rules::SteadyTime started);
  void begin_reload();
  void finish_reload();
  void shutdown();
  void build_charge_limits(std::map<std::string, ChargeLimitRow> rows);
  void tell_charge_block(std::int64_t wall);
  // What came in on MQTT, read and checked by the intake (daemon/intake/mqtt_intake.hpp), handed on.
  bool handle_mqtt(rules::SteadyTime now);
  IntakeSite intake_site() const;
  void hand_on(Intake&& in, rules::SteadyTime now);
  // Settings stored on the recorder's thread, put in force at the top of a cycle (setting_desk.hpp).
  void take_settings();
  void refuse_setting(const std::string& load_id, const std::string& why);
  void take_overrides(std::vector<OverrideRequest>& taken);  // the core's; their rows marked to be stored
  void tell_overrides(const std::vector<OverrideRequest>& taken);
  void tell_power_lost(const std::vector<SafetyCore::PowerLost>& lost, std::int64_t wall);
  void record_switches(std::int64_t wall);
  void tell_polls();
  void record_alarms(rules::SteadyTime now, std::int64_t wall);
  void record_relay_alarms();
  // Runs one side job of the cycle: whatever it throws is counted and logged, never passed on.
  template <typename F>
  void guarded(SideJob job, F&& f) noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      side_failed(job, e.what());
    } catch (...) {
      side_failed(job, "an unknown exception");
    }
  }
  void side_failed(SideJob job, const char* what) noexcept;
  // This cycle, as values, to the publisher (daemon/publish/publisher.hpp): it renders and sends
  // on its own thread. `safe_state`: before the stored state is taken, the loop's figures and
  // states only; a request to send everything (Home Assistant's discovery) waits for the loads.
  void publish(const CycleRecordPtr& record, bool safe_state = false);
  CycleRecordPtr seal_record(rules::SteadyTime now);  // the core's record of this cycle, completed and sealed
  // The publisher's losses and failures, counted and told (status, <prefix>/loop, metrics, an alarm).
  void tell_publisher(rules::SteadyTime now, std::int64_t wall);
  // The cycle's view to the metrics endpoint (daemon/metrics/exporter.hpp) while somebody scrapes.
  void export_metrics(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall);
  void persist(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall_now);
  // What the recorder said since the last cycle: log lines, events, alarms.
  void tell_recorder(std::int64_t wall);
  void count_events(std::int64_t wall);
  // Each load's draw since the last cycle, into today's energy (and the store, with telemetry).
  void account_energy(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall);
  // `target_w`: an actuation through a miner's API that set its power target.
  void event(const std::string& kind, const std::string& load_id, const rules::Reason& r, const std::string& detail,
             std::int64_t wall_now, const rules::Snapshot* snap = nullptr, std::optional<bool> on = std::nullopt,
             std::optional<double> target_w = std::nullopt);
  // Where events go on MQTT: <prefix>/event and, with the uplink, <prefix>/site/<id>/event.
  EventLog::Route event_route() const { return {config_.mqtt.prefix, config_.uplink.enabled, fleet_site_id()}; }
  // The site's id for the fleet: site.id, else the one fixed in the database.
  const std::string& fleet_site_id() const { return config_.site_id.empty() ? site_id_ : config_.site_id; }
  std::string status_line() const;
  void take_core_counts();  // the core's counts into the loop's figures, after the relays
  // Shadow mode (daemon_shadow.cpp, issue 60): after the relays, this cycle's decisions against
  // the relays' reported states (ShadowWatch), its news to the recorder, the publisher and the log.
  void shadow_step(const CycleRecord& record, std::int64_t wall_ms);
  void shadow_stop();  // the open spells closed at the stop
  void shadow_said(const ShadowNews& news);

  RunOptions options_;
  Seams seams_;
  LoopClock& clock_;
  SystemdLine systemd_;  // sd_notify, or the test's seam; READY=1 with the first ping
  Config config_;
  std::optional<InstanceLock> lock_;  // one controller per database; released after db_ closes
  // The store's side (daemon/recorder/store_side.hpp): the database until the recorder takes it,
  // whose thread alone uses it from then on (the safety core never waits on the disk: issue 44),
  // this cycle's records, the loads' rows. After lock_: closed before the lock is released.
  StoreSide storage_;
  std::string site_id_;  // Home Assistant's ids: fixed once, a rename keeps it (site_identity)
  // The safety core (daemon/core/safety_core.hpp): the devices, the site in force, the rules'
  // state and decision, the snapshot, the overrides' inbox, the loop's figures.
  SafetyCore core_;
  // The loop's figures (daemon/core/loop_stats.hpp): the cadence, the core's counts copied after
  // each cycle's relays, and what each side job lost or failed, as the daemon is told of it.
  LoopStats stats_;
  MinerFleet miners_;  // the miners' APIs, their workers and what is known of them
  DeviceLog device_log_;  // each device's health as last told, what its polls dropped or refused
  // The link, its relays and the links a reload replaced (daemon/loop/mqtt_links.hpp).
  MqttLinks mqtt_;
  // The events (daemon/events/event_log.hpp): numbered, kept, and sent in order through the
  // outbox. After mqtt_: destroyed first, the outbox's thread gone before the link it sends on.
  EventLog events_;
  // What goes out each cycle and what need not go again, rendered and sent on its own thread.
  // After mqtt_: destroyed first, its thread gone before the link it sends on.
  Publisher publisher_;
  // What comes in on MQTT, checked where it arrives; the settings offered, the broker's outages.
  MqttIntake intake_;
  SettingDesk settings_;  // settings from MQTT on their way to the card, in force once stored
  AlarmWatch alarms_;  // the rules', the devices' own and the charge block's alarms, as last told
  HostWatch host_;  // the controller's own health, made from config_.host
  EnergySide energy_;  // each load's energy today, carried on across a restart (daemon/recorder/energy_side.hpp)
  ChargeBlock charge_block_;  // the charge limits held at 0 A while charging is blocked, and what they said
  ShadowWatch shadow_;  // shadow mode: where its decisions and the relays differ (issue 60)
  bool told_first_ = false;
  // This cycle's journal lines and the header in force (daemon/store/journal_lines.hpp).
  JournalLines journal_;
  JobWith<ReloadOutcome> reloader_{"reload"};  // the reloader's thread and its outcome, taken once it has finished
  // The metrics endpoint: started with the daemon and by a reload that changes `metrics:`; one
  // that cannot listen is retried each minute, the loop going on.
  MetricsExporter metrics_;
  std::int64_t started_unix_s_ = 0;  // the wall time start() began at
  // The start on a slow card (daemon/loop/safe_start.hpp): the opener's thread and what it read,
  // the safe state's times until the stored state is taken. Last: the opener is joined first.
  SafeStart start_;
  void database_in_memory(const std::string& why, bool copied);
};

}  // namespace shackd

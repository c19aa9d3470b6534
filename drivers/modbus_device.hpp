#pragma once
// A device polled over one Modbus link: one or more units, each with its register table.
// poll() never throws. A failure becomes missing readings and an entry in health(); a dead
// device costs at most one timeout per poll, and nothing while it is backing off.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "drivers/modbus_link.hpp"
#include "drivers/registers.hpp"
#include "rules/time.hpp"

namespace drivers {

using rules::SteadyTime;

struct UnitConfig {
  int unit = 0;             // Modbus unit id (slave address)
  const Table* table = nullptr;
  std::string prefix;       // readings are "<prefix>.<field>": "system.battery_v"
};

struct DeviceConfig {
  std::string name;  // "victron", "solark"
  Transport transport;
  std::vector<UnitConfig> units;
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds pacing{0};  // minimum gap between two requests (RS485 gateways)
  std::chrono::milliseconds backoff_min{1000};
  std::chrono::milliseconds backoff_max{30000};
  std::optional<int> max_block;  // fewer registers per read than the table allows (USR gateways: 8)
};

struct Reading {
  std::string name;  // "battery.battery_v"
  double value = 0;
  SteadyTime as_of{};
};

struct Invalid {
  std::string name;
  std::string why;  // "battery_v 655.35 outside its plausible range 20..70 (register 259)"
};

struct PollResult {
  std::vector<Reading> readings;
  std::vector<Invalid> invalid;      // decoded but implausible: dropped, with the reason
  std::vector<std::string> unavailable;  // the device said "not available" (not_available_raw)
  std::vector<std::string> errors;   // why some or all readings are missing this poll
  int requests = 0;                  // Modbus requests sent
};

struct DeviceHealth {
  bool connected = false;
  std::optional<SteadyTime> last_success;
  int consecutive_failures = 0;  // polls in a row that read nothing
  std::string last_error;
  std::optional<SteadyTime> next_attempt;  // while backing off
  long long requests = 0;
  long long failed_requests = 0;
  long long reconnects = 0;
  // Registers this connection's device refused (exception 0x02) although the map lists them:
  // "system 847-849". Older GX firmware serves less of the map; see split_refused().
  std::vector<std::string> refused;
  // Readings the device last reported as "not available": a sensor not fitted.
  std::vector<std::string> not_available;
  // What each unit with an identity register said it is, at this connection: "solark: a
  // Deye/Sunsynk single-phase hybrid (device type 0x0003)".
  std::vector<std::string> identity;
  // A unit whose identity its map does not fit (an alarm: nothing is read from it or written to
  // it), or that changed since it first fitted (a warning, naming both): in force until it fits
  // and is what it was again. drivers/device_status.hpp makes them device alarms.
  struct IdentityAlarm {
    std::string unit;  // its prefix: "solark"
    std::string text;
    bool warning = false;
  };
  std::vector<IdentityAlarm> identity_alarms;
};

class ModbusDevice {
 public:
  using Clock = std::function<SteadyTime()>;
  explicit ModbusDevice(DeviceConfig config, Clock clock = {});

  PollResult poll();
  // Reads one register, writes `value` to it (function 16 where the unit's table says so) and
  // reads it back; returns the value it held before, or the error (also when the read-back
  // differs: a device that acknowledges a write it did not make).
  struct WriteResult {
    std::optional<std::int16_t> previous;
    std::string error;  // empty on success
  };
  WriteResult swap_register(int unit, std::uint16_t address, std::int16_t value);
  const DeviceHealth& health() const { return health_; }
  const DeviceConfig& config() const { return config_; }
  // The reads one poll makes, unit by unit (for the figures in docs/development.md and the benchmark).
  struct PlannedRead {
    int unit;
    Block block;
    // Which of the config's units (and so which table and address space): one unit id may serve
    // two tables, as a Luxpower serves its input and holding registers.
    std::size_t slot = 0;
  };
  const std::vector<PlannedRead>& plan() const { return plan_; }

 private:
  bool ensure_connected(SteadyTime now, PollResult& out);
  void failed(SteadyTime now, const std::string& error);
  void pace();
  // Replaces plan_[i], refused whole with 0x02, by smaller reads (the runs of adjacent
  // registers, then single registers); a single register refused is dropped for this connection.
  void split_refused(std::size_t i, PollResult& out);
  // Reads each unit's identity register (Table::identity): on every new connection before any
  // other request, every poll while a unit is refused for it, and before every write. A unit of
  // a family its table does not fit is refused until it reads as one that fits. False when the
  // link failed (health_.last_error says how).
  bool identify(PollResult& out);
  // A new connection, identified before anything else is asked of it.
  bool connect_and_identify(PollResult& out);
  std::vector<std::string> refused_family_;  // per unit slot: why it is refused, or empty
  std::vector<std::optional<std::uint16_t>> last_type_;   // per slot: what it read last
  std::vector<std::optional<std::uint16_t>> first_fit_;   // per slot: the first type seen that fits

  DeviceConfig config_;
  Clock clock_;
  ModbusLink link_;
  std::vector<PlannedRead> plan_;       // for this connection: split where the device refused
  std::vector<PlannedRead> base_plan_;  // from the tables
  std::vector<std::size_t> refused_all_;  // slots whose unit refused every register: not split again
  // Per unit slot, per register of its table: the reading's name, "<prefix>.<field>". Made once:
  // joined for every reading of every poll they were a tenth of the poller's instructions (issue 57).
  std::vector<std::vector<std::string>> names_;
  DeviceHealth health_;
  std::chrono::milliseconds backoff_;
  std::optional<SteadyTime> last_request_;
};

}  // namespace drivers

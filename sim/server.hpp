#pragma once
// One simulated Modbus-TCP device (the GX, or the Sol-Ark behind its gateway) on its own port and
// thread, so a slow or offline device never holds up the other. Many clients at once.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "drivers/registers.hpp"
#include "sim/model.hpp"

struct _modbus;  // libmodbus context
struct _modbus_mapping_t;

namespace sim {

struct UnitSpec {
  int unit = 0;
  const drivers::Table* table = nullptr;
  std::uint16_t start = 0;  // the address range this unit serves; outside it: exception 0x02
  std::uint16_t count = 0;
  // Addresses inside the range that this firmware does not serve: a read that touches one is
  // refused whole with 0x02, as dbus-modbustcp does (first, last; inclusive).
  std::vector<std::pair<std::uint16_t, std::uint16_t>> holes{};
  // What the unit answers at its table's identity register (Table::identity), wherever that is;
  // unset: the first family the table fits (a Deye single-phase hybrid says 0x0003).
  std::optional<int> device_type{};
};

// The GX's Modbus map by dbus-modbustcp generation (its git history; docs/registers.md §1.9):
// v1.0.95 (March 2026) serves 847-849, 852-854, 856-859 and 861-864 as reserved registers;
// v1.0.85 (August 2025) added 884-913; v1.0.78 (November 2024) added solar charger 792/793.
struct GxMap {
  std::uint16_t system_end = 919;        // last system register served
  std::uint16_t solarcharger_end = 793;  // last solar charger register served
  std::vector<std::pair<std::uint16_t, std::uint16_t>> system_holes;
};
// "1.0.80" -> that firmware's map; throws std::runtime_error for text that is not a version.
GxMap gx_map_for(const std::string& version);

// The GX's units as that firmware serves them: system (100), the battery monitor, the solar
// charger and the temperature service, each over the block the real GX serves contiguously
// (docs/registers.md §1.9); a VE.Bus inverter/charger too when `vebus_unit` is not 0.
std::vector<UnitSpec> gx_units(const GxMap& map, int battery_unit = 225, int charger_unit = 226, int temperature_unit = 24,
                               int vebus_unit = 0);

struct Faults {
  bool offline = false;   // refuses connections and drops the ones it has
  int slow_ms = 0;        // delays every reply
  int exception = 0;      // answers every request with this exception code
  int exception_unit = 0; // ... only for this unit (0: all)
  bool garbage = false;   // 0xFFFF / 0x7FFF in every register
  int idle_close_s = 0;   // closes a connection idle this long, as some gateways do
};

class DeviceServer {
 public:
  DeviceServer(std::string name, std::string bind, int port, std::vector<UnitSpec> units, const SiteModel& model,
               std::mutex& model_mutex);
  ~DeviceServer();
  // Binds (port 0: any free port) and starts serving. Throws std::runtime_error.
  void start();
  void stop();
  int port() const { return port_; }
  const std::string& name() const { return name_; }
  void set_faults(const Faults& f);
  Faults faults() const;
  long long requests() const { return requests_; }
  // The GX's settings registers 2700-2724 on unit 100, readable and writable (DVCC 2705 = -1).
  void serve_gx_settings();
  // Reads answered by dbus-modbustcp's rule for the map `map` (sim/gx_map.hpp): 0x02 for an
  // address the map lacks, 0x0A for one whose service the unit does not have.
  void serve_gx_map(const GxMap& map) { gx_map_ = map; }
  int dvcc_max_charge_current() const;
  // A writable holding register inside a unit's served range (the Sol-Ark's 210): reads return
  // what was written; `fc16_only` refuses function 6 with 0x01 as Sunsynk-family inverters do.
  void serve_writable(int unit, std::uint16_t address, std::int16_t initial, bool fc16_only);
  std::optional<std::int16_t> writable(int unit, std::uint16_t address) const;
  // For latency measurements: the steady-clock time (ns) of the first request after mark().
  void mark() { first_after_mark_ns_ = 0; marked_ = true; }
  long long first_after_mark_ns() const { return first_after_mark_ns_; }
  long long writes() const { return writes_; }

 private:
  void run();
  int open_listener();
  void handle(::_modbus* ctx, const std::uint8_t* query, int length);
  void write_writable(::_modbus* ctx, const std::uint8_t* query, int length, int unit, int function, int address);
  // The words of [start, start + count) as `spec` serves them now, into `map` (whose range that is).
  void fill(struct _modbus_mapping_t* map, const UnitSpec& spec, int start, int count);
  void serve_gx_read(::_modbus* ctx, const std::uint8_t* query, int length, int unit, int address, int count);

  std::string name_, bind_;
  int port_;
  std::vector<UnitSpec> units_;
  const SiteModel& model_;
  std::mutex& model_mutex_;
  mutable std::mutex faults_mutex_;
  Faults faults_;
  std::atomic<bool> running_{false};
  std::atomic<long long> requests_{0}, writes_{0};
  std::atomic<long long> first_after_mark_ns_{0};
  std::atomic<bool> marked_{false};
  std::thread thread_;
  int listen_fd_ = -1;
  struct Writable {
    int unit;
    std::uint16_t address;
    std::int16_t value;
    bool fc16_only;
  };
  std::vector<Writable> writables_;  // guarded by settings_mutex_
  std::optional<GxMap> gx_map_;      // set before start()
  struct _modbus_mapping_t* settings_ = nullptr;
  mutable std::mutex settings_mutex_;
};

}  // namespace sim

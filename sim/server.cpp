#include "sim/server.hpp"

#include <modbus.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "drivers/victron_gx.hpp"
#include "sim/gx_map.hpp"

namespace sim {

namespace {
using Clock = std::chrono::steady_clock;

bool refused(const UnitSpec& spec, int address, int count) {
  const int last = address + count - 1;
  for (const auto& [from, to] : spec.holes) {
    if (address <= to && last >= from) return true;
  }
  return false;
}
}  // namespace

GxMap gx_map_for(const std::string& version) {
  int major = 0, minor = 0, patch = 0;
  char end = 0;
  const std::string v = version.starts_with("v") ? version.substr(1) : version;
  if (std::sscanf(v.c_str(), "%d.%d.%d%c", &major, &minor, &patch, &end) != 3) {
    throw std::runtime_error("--gx-firmware: '" + version + "' is not a dbus-modbustcp version like 1.0.85");
  }
  const long n = major * 1000000L + minor * 1000L + patch;
  GxMap m;
  if (n < 1000095) m.system_holes = {{847, 849}, {852, 854}, {856, 859}, {861, 864}};
  if (n < 1000085) m.system_end = 883;
  if (n < 1000078) m.solarcharger_end = 791;
  return m;
}

std::vector<UnitSpec> gx_units(const GxMap& map, int battery_unit, int charger_unit, int temperature_unit,
                               int vebus_unit) {
  using namespace drivers::victron;
  std::vector<UnitSpec> units{
      {100, &system_table(), 800, static_cast<std::uint16_t>(map.system_end - 800 + 1), map.system_holes},
      // 256-331, and 1282-1328 (a BMS's state, allow-to-charge): nothing between
      {battery_unit, &battery_table(), 256, 1329 - 256, {{332, 1281}}},
      {charger_unit, &solarcharger_table(), 771, static_cast<std::uint16_t>(map.solarcharger_end - 771 + 1)},
      {temperature_unit, &temperature_table(), 3300, 28}};
  if (vebus_unit != 0) units.push_back({vebus_unit, &vebus_table(), 3, 147 - 3 + 1});
  return units;
}

DeviceServer::DeviceServer(std::string name, std::string bind, int port, std::vector<UnitSpec> units,
                           const SiteModel& model, std::mutex& model_mutex)
    : name_(std::move(name)), bind_(std::move(bind)), port_(port), units_(std::move(units)), model_(model),
      model_mutex_(model_mutex) {}

DeviceServer::~DeviceServer() {
  stop();
  if (settings_) modbus_mapping_free(settings_);
}

void DeviceServer::serve_gx_settings() {
  settings_ = modbus_mapping_new_start_address(0, 0, 0, 0, 2700, 25, 2700, 25);
  settings_->tab_registers[2705 - 2700] = 0xFFFF;  // -1: no limit
}

int DeviceServer::dvcc_max_charge_current() const {
  std::lock_guard lock(settings_mutex_);
  return settings_ ? static_cast<std::int16_t>(settings_->tab_registers[2705 - 2700]) : 0;
}

void DeviceServer::serve_writable(int unit, std::uint16_t address, std::int16_t initial, bool fc16_only) {
  std::lock_guard lock(settings_mutex_);
  writables_.push_back({unit, address, initial, fc16_only});
}

std::optional<std::int16_t> DeviceServer::writable(int unit, std::uint16_t address) const {
  std::lock_guard lock(settings_mutex_);
  for (const auto& w : writables_) {
    if (w.unit == unit && w.address == address) return w.value;
  }
  return std::nullopt;
}

void DeviceServer::set_faults(const Faults& f) {
  std::lock_guard lock(faults_mutex_);
  faults_ = f;
}

Faults DeviceServer::faults() const {
  std::lock_guard lock(faults_mutex_);
  return faults_;
}

int DeviceServer::open_listener() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  if (inet_pton(AF_INET, bind_.c_str(), &addr.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);  // port 0 asked for any free port: keep the one we got
  return fd;
}

void DeviceServer::start() {
  listen_fd_ = open_listener();
  if (listen_fd_ < 0) {
    throw std::runtime_error(name_ + ": cannot listen on " + bind_ + ":" + std::to_string(port_));
  }
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void DeviceServer::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void DeviceServer::run() {
  // A TCP context used only to frame replies on whichever client socket is being served.
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port_);
  std::map<int, Clock::time_point> clients;  // fd -> last activity
  std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  const auto drop_all = [&] {
    for (const auto& [fd, t] : clients) close(fd);
    clients.clear();
  };

  while (running_) {
    const Faults f = faults();
    if (f.offline) {
      drop_all();
      if (listen_fd_ >= 0) close(listen_fd_), listen_fd_ = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (listen_fd_ < 0 && (listen_fd_ = open_listener()) < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the port is not free yet
      continue;
    }
    fd_set set;
    FD_ZERO(&set);
    FD_SET(listen_fd_, &set);
    int max_fd = listen_fd_;
    for (const auto& [fd, t] : clients) {
      FD_SET(fd, &set);
      max_fd = std::max(max_fd, fd);
    }
    timeval tv{0, 50000};
    if (select(max_fd + 1, &set, nullptr, nullptr, &tv) < 0) continue;
    if (FD_ISSET(listen_fd_, &set)) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) clients[fd] = Clock::now();
    }
    for (auto it = clients.begin(); it != clients.end();) {
      const int fd = it->first;
      if (FD_ISSET(fd, &set)) {
        modbus_set_socket(ctx, fd);
        const int len = modbus_receive(ctx, query);
        if (len < 0) {
          close(fd);
          it = clients.erase(it);
          continue;
        }
        if (len > 0) {
          it->second = Clock::now();
          handle(ctx, query, len);
        }
      } else if (f.idle_close_s > 0 && Clock::now() - it->second > std::chrono::seconds(f.idle_close_s)) {
        close(fd);
        it = clients.erase(it);
        continue;
      }
      ++it;
    }
  }
  drop_all();
  modbus_free(ctx);
}

// A write to one writable register (function 6, or 16 with quantity 1); anything else is
// refused as the device would: 0x01 for function 6 on a device that takes only 16, 0x02 for an
// address that is not writable.
void DeviceServer::write_writable(modbus_t* ctx, const std::uint8_t* query, int length, int unit, int function,
                                  int address) {
  const int header = modbus_get_header_length(ctx);
  std::lock_guard lock(settings_mutex_);
  for (auto& w : writables_) {
    if (w.unit != unit || w.address != address) continue;
    if (w.fc16_only && function == MODBUS_FC_WRITE_SINGLE_REGISTER) {
      modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
      return;
    }
    if (function == MODBUS_FC_WRITE_MULTIPLE_REGISTERS && ((query[header + 3] << 8) | query[header + 4]) != 1) break;
    modbus_mapping_t* map = modbus_mapping_new_start_address(0, 0, 0, 0, w.address, 1, 0, 0);
    modbus_reply(ctx, query, length, map);
    w.value = static_cast<std::int16_t>(map->tab_registers[0]);
    modbus_mapping_free(map);
    return;
  }
  modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
}

void DeviceServer::handle(modbus_t* ctx, const std::uint8_t* query, int length) {
  ++requests_;
  if (marked_.exchange(false)) {
    first_after_mark_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  }
  const Faults f = faults();
  if (f.slow_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.slow_ms));

  const int header = modbus_get_header_length(ctx);
  const int unit = query[header - 1];
  const int function = query[header];
  // A unit may serve two tables, one per address space (a Luxpower's readings on function 4,
  // its settings on 3): the one in the space asked for, else the unit's only one.
  const bool input_read = function == MODBUS_FC_READ_INPUT_REGISTERS;
  const UnitSpec* spec = nullptr;
  for (const auto& u : units_) {
    if (u.unit != unit) continue;
    if (!spec || (u.table && (u.table->space == drivers::RegisterSpace::input) == input_read)) spec = &u;
  }
  const int address = (query[header + 1] << 8) | query[header + 2];
  if (settings_ && unit == 100 && address >= 2700 && address < 2725 && !f.exception) {
    if (function == MODBUS_FC_WRITE_SINGLE_REGISTER || function == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) ++writes_;
    std::lock_guard lock(settings_mutex_);
    modbus_reply(ctx, query, length, settings_);
    return;
  }
  const drivers::Identity* identity = spec && spec->table ? spec->table->identity : nullptr;
  const bool read = function == MODBUS_FC_READ_HOLDING_REGISTERS || function == MODBUS_FC_READ_INPUT_REGISTERS;
  if (f.exception && (f.exception_unit == 0 || f.exception_unit == unit)) {
    modbus_reply_exception(ctx, query, static_cast<unsigned>(f.exception));
  } else if (identity && read && address == identity->address && ((query[header + 3] << 8) | query[header + 4]) == 1) {
    int type = 0;
    for (const auto& v : identity->values) {
      if (v.kind == identity->kind) {
        type = v.value;
        break;
      }
    }
    modbus_mapping_t* map = modbus_mapping_new_start_address(0, 0, 0, 0, address, 1, address, 1);
    map->tab_registers[0] = map->tab_input_registers[0] = static_cast<std::uint16_t>(spec->device_type.value_or(type));
    modbus_reply(ctx, query, length, map);
    modbus_mapping_free(map);
  } else if (gx_map_ && read) {
    serve_gx_read(ctx, query, length, unit, address, (query[header + 3] << 8) | query[header + 4]);
  } else if (!spec) {
    // The GX answers a unit with no service behind it with 0x0A (docs/registers.md §1.3).
    modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_GATEWAY_PATH);
  } else if (function == MODBUS_FC_READ_HOLDING_REGISTERS && refused(*spec, address, (query[header + 3] << 8) | query[header + 4])) {
    modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
  } else if (function == MODBUS_FC_WRITE_SINGLE_REGISTER || function == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
    ++writes_;
    write_writable(ctx, query, length, unit, function, address);
  } else if (function == MODBUS_FC_READ_HOLDING_REGISTERS && spec->table->space == drivers::RegisterSpace::input) {
    // A table of input registers is served on function 4 only, so that a driver reading it with
    // function 3 fails here as it would on the device (a Luxpower answers 3 from its settings,
    // another address space). Holding tables are served on both: the GX documents 3 and 4 alike.
    modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  } else if (function != MODBUS_FC_READ_HOLDING_REGISTERS && function != MODBUS_FC_READ_INPUT_REGISTERS) {
    // shackd's read path never writes; count any attempt so tests can prove it.
    if (function == MODBUS_FC_WRITE_SINGLE_REGISTER || function == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) ++writes_;
    modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
  } else {
    modbus_mapping_t* map = modbus_mapping_new_start_address(0, 0, 0, 0, spec->start, spec->count, spec->start,
                                                             spec->count);
    fill(map, *spec, spec->start, spec->count);
    modbus_reply(ctx, query, length, map);  // out-of-range addresses get 0x02 from libmodbus
    modbus_mapping_free(map);
  }
}

void DeviceServer::fill(modbus_mapping_t* map, const UnitSpec& spec, int start, int count) {
  {
    std::lock_guard lock(model_mutex_);
    for (const drivers::Register& r : spec.table->registers) {
      const auto v = model_.value(std::string(spec.table->service), std::string(r.field));
      const auto words = drivers::encode(r, v.value_or(0));
      for (std::size_t i = 0; i < words.size(); ++i) {
        const long at = static_cast<long>(r.address) - start + static_cast<long>(i);
        if (at < 0 || at >= count) continue;
        // Two byte fields share a word: each brings its own byte, the other is 0.
        const bool byte = r.type == drivers::RegType::u8_low || r.type == drivers::RegType::u8_high;
        const std::uint16_t word = byte ? static_cast<std::uint16_t>(map->tab_registers[at] | words[i]) : words[i];
        map->tab_registers[at] = map->tab_input_registers[at] = word;
      }
    }
  }
  {
    std::lock_guard lock(settings_mutex_);
    for (const auto& w : writables_) {
      if (w.unit == spec.unit && w.address >= start && w.address < start + count) {
        map->tab_registers[w.address - start] = static_cast<std::uint16_t>(w.value);
      }
    }
  }
  if (faults().garbage) {
    // By the register's place in its unit's block, whatever a read starts at.
    for (int i = 0; i < count; ++i) {
      map->tab_registers[i] = map->tab_input_registers[i] = ((start + i - spec.start) % 2) ? 0x7FFF : 0xFFFF;
    }
  }
}

// dbus-modbustcp's answer (sim/gx_map.hpp): the exception its rule gives, else the words of
// every service the unit has in the range (a register the simulator does not model reads 0, as
// an invalid D-Bus value does: docs/registers.md §1.3).
void DeviceServer::serve_gx_read(modbus_t* ctx, const std::uint8_t* query, int length, int unit, int address,
                                 int count) {
  if (const int e = gx_read_exception(*gx_map_, units_, unit, address, count)) {
    modbus_reply_exception(ctx, query, static_cast<unsigned>(e));
    return;
  }
  modbus_mapping_t* map = modbus_mapping_new_start_address(0, 0, 0, 0, static_cast<unsigned>(address),
                                                           static_cast<unsigned>(count), static_cast<unsigned>(address),
                                                           static_cast<unsigned>(count));
  for (const auto& u : units_) {
    if (u.unit == unit && u.table) fill(map, u, address, count);
  }
  modbus_reply(ctx, query, length, map);
  modbus_mapping_free(map);
}

}  // namespace sim

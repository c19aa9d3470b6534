#include "drivers/modbus_device.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <utility>

namespace drivers {

namespace {
constexpr std::uint16_t kMaxRead = 125;
}

ModbusDevice::ModbusDevice(DeviceConfig config, Clock clock)
    : config_(std::move(config)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      link_(config_.transport, config_.timeout),
      backoff_(config_.backoff_min) {
  for (std::size_t slot = 0; slot < config_.units.size(); ++slot) {
    const UnitConfig& u = config_.units[slot];
    const int max_block = std::min<int>({u.table->max_block, config_.max_block.value_or(kMaxRead), kMaxRead});
    for (const Block& b : plan_blocks(u.table->registers, u.table->max_gap, max_block, u.table->block_align)) {
      base_plan_.push_back({u.unit, b, slot});
    }
  }
  plan_ = base_plan_;
  for (const UnitConfig& u : config_.units) {
    auto& names = names_.emplace_back();
    for (const Register& reg : u.table->registers) names.push_back(u.prefix + "." + std::string(reg.field));
  }
  refused_family_.resize(config_.units.size());
  last_type_.resize(config_.units.size());
  first_fit_.resize(config_.units.size());
}

namespace {
std::vector<Register> registers_in(const Table& t, Block b) {
  std::vector<Register> out;
  for (const Register& r : t.registers) {
    if (r.address >= b.start && r.address + word_count(r.type) <= b.start + b.count) out.push_back(r);
  }
  return out;
}
}  // namespace

void ModbusDevice::split_refused(std::size_t i, PollResult& out) {
  const PlannedRead p = plan_[i];
  const UnitConfig& unit = config_.units[p.slot];
  auto regs = registers_in(*unit.table, p.block);
  std::sort(regs.begin(), regs.end(), [](const Register& a, const Register& b) { return a.address < b.address; });
  plan_.erase(plan_.begin() + static_cast<std::ptrdiff_t>(i));
  if (regs.size() > 1) {
    // Split in two at the widest stretch of unlisted addresses (that is where a firmware's hole
    // is likeliest), else in the middle; each half is read, and split again if refused. The
    // plan left for the connection is the fewest reads this firmware serves whole.
    std::size_t cut = regs.size() / 2;
    int widest = 0;
    for (std::size_t k = 1; k < regs.size(); ++k) {
      const int gap = regs[k].address - (regs[k - 1].address + word_count(regs[k - 1].type));
      if (gap > widest) widest = gap, cut = k;
    }
    const auto block_of = [](const Register& first, const Register& last) {
      return Block{first.address, static_cast<std::uint16_t>(last.address + word_count(last.type) - first.address)};
    };
    const PlannedRead halves[] = {{p.unit, block_of(regs.front(), regs[cut - 1]), p.slot},
                                  {p.unit, block_of(regs[cut], regs.back()), p.slot}};
    plan_.insert(plan_.begin() + static_cast<std::ptrdiff_t>(i), std::begin(halves), std::end(halves));
    return;
  }
  // One register the device does not serve: missing for this connection, said once.
  const std::string what = unit.prefix + " " + std::to_string(p.block.start) +
                           (p.block.count > 1 ? "-" + std::to_string(p.block.start + p.block.count - 1) : "");
  health_.refused.push_back(what);
  out.errors.push_back(config_.name + ": " + what +
                       " not served by this device (exception 0x02): left out until it reconnects");
}

void ModbusDevice::failed(SteadyTime now, const std::string& error) {
  health_.last_error = error;
  health_.connected = false;
  health_.next_attempt = now + backoff_;
  backoff_ = std::min(backoff_ * 2, config_.backoff_max);
}

bool ModbusDevice::ensure_connected(SteadyTime now, PollResult& out) {
  if (link_.connected()) return true;
  if (health_.next_attempt && now < *health_.next_attempt) {
    out.errors.push_back(config_.name + ": backing off after: " + health_.last_error);
    return false;
  }
  std::string error;
  ++health_.reconnects;
  if (!link_.connect(error)) {
    failed(now, error);
    out.errors.push_back(config_.name + ": " + error);
    return false;
  }
  health_.connected = true;
  health_.next_attempt.reset();
  // A new connection may be a GX with new firmware: read the whole map again.
  plan_ = base_plan_;
  health_.refused.clear();
  refused_all_.clear();
  if (!identify(out)) {
    failed(last_request_.value_or(now), config_.name + ": " + health_.last_error);
    out.errors.push_back(health_.last_error);
    link_.close();
    return false;
  }
  return true;
}

bool ModbusDevice::connect_and_identify(PollResult& out) {
  std::string error;
  ++health_.reconnects;
  if (!link_.connect(error)) return false;
  // The peer behind the address may be another device now (a gateway whose inverter was
  // replaced): who it is comes before anything else is read (issue 49).
  if (!identify(out)) {
    link_.close();
    return false;
  }
  return true;
}

namespace {
std::string hex4(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", static_cast<unsigned>(v) & 0xFFFFu);
  return buf;
}
}  // namespace

bool ModbusDevice::identify(PollResult& out) {
  health_.identity.clear();
  health_.identity_alarms.clear();
  for (std::size_t slot = 0; slot < config_.units.size(); ++slot) {
    const std::string was_refused = std::exchange(refused_family_[slot], {});
    const UnitConfig& u = config_.units[slot];
    const Identity* id = u.table ? u.table->identity : nullptr;
    if (!id) continue;
    std::uint16_t word = 0;
    pace();
    ++out.requests;
    ++health_.requests;
    const ReadResult r = link_.read(u.unit, id->address, 1, &word, u.table->space);
    last_request_ = clock_();
    const std::string where = "unit " + std::to_string(u.unit) + " register " + std::to_string(id->address);
    if (r.status != ReadStatus::ok && r.status != ReadStatus::exception) {
      // A timeout or a dead link: the poll would only wait again (one timeout per poll). What was
      // refused stays refused.
      refused_family_[slot] = was_refused;
      ++health_.failed_requests;
      health_.last_error = r.error;
      return false;
    }
    if (r.status != ReadStatus::ok) {
      ++health_.failed_requests;
      if (last_type_[slot]) {
        // It said its type before, so this gateway passes the register on: a refusal now (a Deye
        // answers 0x06 busy now and then) proves nothing about who answers. Read as configured,
        // one busy answer let a refused three-phase unit be read with the single-phase map and a
        // charge block write register 210 to it, and a replaced inverter busy at the reconnect
        // was read with the old map until the next connection. Not read, nor written, until it
        // says its type; asked again at the next poll. An alarm only where it was refused for
        // its type (a busy answer alone is not news for the owner).
        const auto last = std::find_if(id->values.begin(), id->values.end(),
                                       [&](const FamilyValue& f) { return f.value == *last_type_[slot]; });
        const bool unfit = last != id->values.end() && last->kind != id->kind;
        if (unfit && !was_refused.empty()) {
          refused_family_[slot] = was_refused;
          health_.identity_alarms.push_back({u.prefix, was_refused, false});
        } else {
          refused_family_[slot] = config_.name + " " + u.prefix + ": " + where + " refused (" + r.error + "); it read " +
                                  hex4(*last_type_[slot]) +
                                  " before: nothing is read from it or written to it until it says its device type again";
        }
        health_.identity.push_back(refused_family_[slot]);
        continue;
      }
      // Refused, and never read: a gateway that does not pass it on. Read as configured, as
      // before this check.
      health_.identity.push_back(u.prefix + ": device type not read (" + r.error + "): read as configured");
      continue;
    }
    const auto family = std::find_if(id->values.begin(), id->values.end(),
                                     [&](const FamilyValue& f) { return f.value == word; });
    const auto named = [&](std::uint16_t v) {
      const auto f = std::find_if(id->values.begin(), id->values.end(), [&](const FamilyValue& x) { return x.value == v; });
      return hex4(v) + (f == id->values.end() ? std::string(" (not a type the public maps name)") : " (" + std::string(f->name) + ")");
    };
    // The change since the last connection (or poll), named both ways.
    const auto previous = std::exchange(last_type_[slot], word);
    const std::string changed = previous && *previous != word
                                    ? "device type changed from " + named(*previous) + " to " + named(word) + ": "
                                    : std::string();
    if (family == id->values.end()) {
      health_.identity.push_back(u.prefix + ": device type " + hex4(word) +
                                 ", which the public maps do not name: read as configured");
    } else if (family->kind == id->kind) {
      health_.identity.push_back(u.prefix + ": " + std::string(family->name) + " (device type " + hex4(word) + ")");
    } else {
      refused_family_[slot] = config_.name + " " + u.prefix + ": " + where + " reads " + hex4(word) + ", " +
                              std::string(family->name) + ", which this map does not fit" +
                              (family->kind.empty() ? (family->why.empty() ? "" : " (" + std::string(family->why) + ")")
                                                    : " (configure it as kind: " + std::string(family->kind) + ")") +
                              ": nothing is read from it or written to it";
      health_.identity.push_back(refused_family_[slot]);
      health_.identity_alarms.push_back({u.prefix, changed + refused_family_[slot], false});
      continue;
    }
    if (!first_fit_[slot]) first_fit_[slot] = word;
    if (*first_fit_[slot] != word) {
      // Read with the same map, but not the device it was: the owner should know.
      health_.identity_alarms.push_back({u.prefix,
                                         "device type is " + named(word) + ", not " + named(*first_fit_[slot]) +
                                             " as when shackd first read it: read with the same map; restart shackd "
                                             "once the change is intended",
                                         true});
    }
  }
  return true;
}

void ModbusDevice::pace() {
  // Gateways that serialise onto RS485 need a gap between requests (docs/registers.md §3.7).
  if (config_.pacing.count() > 0 && last_request_) {
    const auto ready = *last_request_ + config_.pacing;
    const auto now = clock_();
    if (now < ready) std::this_thread::sleep_for(ready - now);
  }
}

ModbusDevice::WriteResult ModbusDevice::swap_register(int unit, std::uint16_t address, std::int16_t value) {
  WriteResult out;
  PollResult ignored;
  if (!ensure_connected(clock_(), ignored)) {
    out.error = health_.last_error;
    return out;
  }
  // Who it is, read again right before a write: a write with a map that does not fit the device
  // is the worst a wrong identity can do (issue 49: register 210 written to a three-phase unit).
  if (!identify(ignored)) {
    out.error = health_.last_error;
    link_.close();
    health_.connected = false;
    return out;
  }
  for (std::size_t slot = 0; slot < config_.units.size(); ++slot) {
    if (config_.units[slot].unit == unit && !refused_family_[slot].empty()) {
      out.error = refused_family_[slot];
      return out;
    }
  }
  std::uint16_t old = 0;
  pace();
  if (const ReadResult r = link_.read(unit, address, 1, &old); r.status != ReadStatus::ok) {
    out.error = r.error;
    return out;
  }
  pace();
  // Writes go to holding registers: the unit's holding table says how (a Luxpower's input
  // table at the same id has nothing to write).
  const auto u = std::find_if(config_.units.begin(), config_.units.end(), [&](const UnitConfig& c) {
    return c.unit == unit && c.table && c.table->space == RegisterSpace::holding;
  });
  const bool fc16 = u != config_.units.end() && u->table && u->table->writes_fc16;
  const ReadResult w = link_.write(unit, address, static_cast<std::uint16_t>(value), fc16);
  last_request_ = clock_();
  if (w.status != ReadStatus::ok) {
    out.error = w.error;
    return out;
  }
  std::uint16_t now = 0;
  pace();
  const ReadResult back = link_.read(unit, address, 1, &now);
  last_request_ = clock_();
  if (back.status != ReadStatus::ok) {
    out.error = "written, but the read-back failed: " + back.error;
    return out;
  }
  if (static_cast<std::int16_t>(now) != value) {
    out.error = "wrote " + std::to_string(value) + " to unit " + std::to_string(unit) + " register " +
                std::to_string(address) + " but it reads back " + std::to_string(static_cast<std::int16_t>(now));
    return out;
  }
  out.previous = static_cast<std::int16_t>(old);
  return out;
}

PollResult ModbusDevice::poll() {
  PollResult out;
  const SteadyTime started = clock_();
  const bool was_connected = link_.connected();  // else ensure_connected identifies it now
  if (!ensure_connected(started, out)) {
    ++health_.consecutive_failures;
    return out;
  }

  // A unit refused for its identity is asked again each poll: the link is proven alive (a peer
  // that closed is seen, not called connected) and a unit that turns into one that fits is read
  // again at once.
  if (was_connected &&
      std::any_of(refused_family_.begin(), refused_family_.end(), [](const std::string& w) { return !w.empty(); }) &&
      !identify(out)) {
    failed(last_request_.value_or(started), config_.name + ": " + health_.last_error);
    out.errors.push_back(health_.last_error);
    link_.close();
    ++health_.consecutive_failures;
    return out;
  }
  for (const std::string& why : refused_family_) {
    if (!why.empty()) out.errors.push_back(why);
  }
  std::vector<std::uint16_t> words(kMaxRead);
  bool any_ok = false;
  bool retried = false;
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const PlannedRead p = plan_[i];  // a copy: split_refused() changes plan_
    if (!refused_family_[p.slot].empty()) continue;
    const UnitConfig& unit = config_.units[p.slot];
    pace();
    ++out.requests;
    ++health_.requests;
    const ReadResult r = link_.read(p.unit, p.block.start, p.block.count, words.data(), unit.table->space);
    last_request_ = clock_();
    if (r.status == ReadStatus::exception && r.exception_code == 0x02 &&
        std::find(refused_all_.begin(), refused_all_.end(), p.slot) == refused_all_.end()) {
      // Illegal data address: this device serves less of the map than the table lists (older
      // GX firmware has holes; docs/registers.md §1.9). Read the parts instead, in this same poll.
      ++health_.failed_requests;
      split_refused(i, out);
      --i;  // plan_[i] is now what replaced the refused read (unsigned wrap-around is defined)
      continue;
    }
    if (r.status == ReadStatus::exception) {
      // The device answered: the connection is fine, this block's readings are missing
      // (0x0A: the service is absent at that unit; docs/registers.md §1.3). Never read as 0.
      ++health_.failed_requests;
      out.errors.push_back(config_.name + " " + unit.prefix + ": " + r.error);
      continue;
    }
    if (r.status != ReadStatus::ok) {
      ++health_.failed_requests;
      // A gateway that closed an idle connection fails the first request after the idle
      // period; that is expected, so reconnect and retry once at once (docs/protocols.md §4.3).
      if (r.status == ReadStatus::link_error && !retried) {
        retried = true;
        if (connect_and_identify(out)) {
          for (const std::string& why : refused_family_) {
            if (!why.empty()) out.errors.push_back(why);
          }
          --i;  // refused_family_ now says whether this unit is still to be read
          continue;
        }
      }
      // A timeout or a dead link: skip the rest of this poll, so a dead device costs one
      // timeout, and back off before the next attempt.
      failed(last_request_.value_or(started), config_.name + ": " + r.error);
      out.errors.push_back(health_.last_error);
      break;
    }
    any_ok = true;
    const SteadyTime as_of = *last_request_;
    std::vector<Reading> block_readings;
    std::vector<std::pair<std::string, std::string>> gated;  // a reading, and the status that drops it
    for (std::size_t ri = 0; ri < unit.table->registers.size(); ++ri) {
      const Register& reg = unit.table->registers[ri];
      if (reg.address < p.block.start || reg.address + word_count(reg.type) > p.block.start + p.block.count) continue;
      const std::span<const std::uint16_t> w(words.data() + (reg.address - p.block.start),
                                             static_cast<std::size_t>(word_count(reg.type)));
      const std::string& name = names_[p.slot][ri];
      // Kept per reading, so a block that failed this poll neither adds nor clears its names.
      auto& na = health_.not_available;
      const auto listed = std::find(na.begin(), na.end(), name);
      if (is_not_available(reg, w)) {
        out.unavailable.push_back(name);
        if (listed == na.end()) na.push_back(name);
        continue;
      }
      if (listed != na.end()) na.erase(listed);
      const double value = decode(reg, w);
      if (auto why = check_plausible(reg, value)) {
        out.invalid.push_back({name, *why});
        continue;
      }
      // A sensor's status word (Register::invalidates): non-zero drops the reading it speaks for.
      if (!reg.invalidates.empty() && value != 0) {
        gated.emplace_back(unit.prefix + "." + std::string(reg.invalidates),
                           std::string(reg.field) + " " + std::to_string(static_cast<long long>(value)) + " (0 = OK)");
      }
      block_readings.push_back({name, value, as_of});
    }
    for (auto& reading : block_readings) {
      const auto g = std::find_if(gated.begin(), gated.end(), [&](const auto& x) { return x.first == reading.name; });
      if (g != gated.end()) out.invalid.push_back({reading.name, "sensor " + g->second});
      else out.readings.push_back(std::move(reading));
    }
  }

  // A value real only beside another (Register::only_with: a BMS's 0 A limit, told from a
  // battery monitor's "no such value" by the BMS's charge voltage): without it, not available.
  const auto has = [&](const std::string& n) {
    return std::any_of(out.readings.begin(), out.readings.end(), [&](const Reading& rd) { return rd.name == n; });
  };
  for (const UnitConfig& u : config_.units) {
    for (const Register& reg : u.table->registers) {
      if (reg.only_with.empty()) continue;
      const std::string name = u.prefix + "." + std::string(reg.field);
      if (!has(name) || has(u.prefix + "." + std::string(reg.only_with))) continue;
      std::erase_if(out.readings, [&](const Reading& rd) { return rd.name == name; });
      out.unavailable.push_back(name);
      auto& na = health_.not_available;
      if (std::find(na.begin(), na.end(), name) == na.end()) na.push_back(name);
    }
  }

  // Readings computed from this poll's (Table::derived).
  for (const UnitConfig& u : config_.units) {
    for (const Derived& dv : u.table->derived) {
      const auto part = [&](std::string_view field) -> const Reading* {
        const std::string n = u.prefix + "." + std::string(field);
        const auto it = std::find_if(out.readings.begin(), out.readings.end(), [&](const Reading& rd) { return rd.name == n; });
        return it == out.readings.end() ? nullptr : &*it;
      };
      const Reading *plus = part(dv.plus), *minus = part(dv.minus), *per = part(dv.per);
      if (!plus || !minus || !per || per->value == 0) continue;
      const std::string name = u.prefix + "." + std::string(dv.field);
      const double value = (plus->value - minus->value) / per->value;
      if (!(value >= dv.min && value <= dv.max)) {
        char why[160];
        std::snprintf(why, sizeof why, "%.*s %g outside its plausible range %g..%g (derived)",
                      static_cast<int>(dv.field.size()), dv.field.data(), value, dv.min, dv.max);
        out.invalid.push_back({name, why});
        continue;
      }
      out.readings.push_back({name, value, std::min({plus->as_of, minus->as_of, per->as_of})});
    }
  }

  // A unit that refused every register is not an older map but something else (a wrong unit
  // id): keep asking for its table, so the error shows every poll and a fix is picked up.
  for (std::size_t slot = 0; slot < config_.units.size(); ++slot) {
    const UnitConfig& u = config_.units[slot];
    if (std::none_of(plan_.begin(), plan_.end(), [&](const PlannedRead& q) { return q.slot == slot; })) {
      for (const PlannedRead& b : base_plan_) {
        if (b.slot == slot) plan_.push_back(b);
      }
      refused_all_.push_back(slot);
      std::erase_if(health_.refused, [&](const std::string& r) { return r.starts_with(u.prefix + " "); });
      health_.refused.push_back(u.prefix + " (every register)");
    }
  }

  if (any_ok) {
    health_.last_success = last_request_;
    health_.consecutive_failures = 0;
    backoff_ = config_.backoff_min;
    health_.connected = link_.connected();
    if (out.errors.empty()) health_.last_error.clear();
    else health_.last_error = out.errors.back();
  } else {
    ++health_.consecutive_failures;
    if (!out.errors.empty()) health_.last_error = out.errors.back();
  }
  return out;
}

}  // namespace drivers

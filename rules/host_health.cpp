#include "rules/host_health.hpp"

#include "rules/format.hpp"

namespace rules {

const char* host_alarm_name(HostAlarm a) {
  switch (a) {
    case HostAlarm::under_voltage: return "controller_under_voltage";
    case HostAlarm::throttled: return "controller_throttled";
    case HostAlarm::hot: return "controller_hot";
    case HostAlarm::worn_storage: return "controller_storage_worn";
    case HostAlarm::heavy_writes: return "controller_heavy_writes";
    case HostAlarm::count: break;
  }
  return "controller";
}

void WriteRate::add(SteadyTime at, std::uint64_t bytes) {
  samples_[next_] = {at, bytes};
  next_ = (next_ + 1) % kSamples;
  if (count_ < kSamples) ++count_;
}

std::optional<double> WriteRate::mb_per_h(Duration window) const {
  if (count_ < 2) return std::nullopt;
  const Sample& newest = samples_[(next_ + kSamples - 1) % kSamples];
  // The oldest sample still within the window.
  const Sample* oldest = nullptr;
  for (std::size_t i = 0; i < count_; ++i) {
    const Sample& s = samples_[(next_ + kSamples - count_ + i) % kSamples];
    if (newest.at - s.at <= window) {
      oldest = &s;
      break;
    }
  }
  if (!oldest || newest.at - oldest->at < window / 2) return std::nullopt;
  // A counter that went back (a new process, a fake tree rewritten) proves nothing.
  if (newest.bytes < oldest->bytes) return std::nullopt;
  const double hours = to_seconds(newest.at - oldest->at) / 3600.0;
  return static_cast<double>(newest.bytes - oldest->bytes) / 1e6 / hours;
}

namespace {

// Raises or clears `a` as `on` says, and says so when it changes.
void set_alarm(HostHealthState& s, std::vector<HostAlarmChange>& out, HostAlarm a, bool on, std::string text) {
  bool& active = s.active[static_cast<std::size_t>(a)];
  if (active == on) return;
  active = on;
  out.push_back({a, on, std::move(text)});
}

// A flag read set now, or within `clear_after` of the last time it was: the alarm holds.
bool flag_held(std::optional<bool> now_set, std::optional<SteadyTime>& seen, SteadyTime now, Duration clear_after) {
  if (now_set && *now_set) seen = now;
  return seen && now - *seen < clear_after;
}

std::string hold_text(Duration d) {
  const double s = to_seconds(d);
  return s < 120 ? format_fixed(s, 0) + " s" : format_fixed(s / 60.0, 0) + " min";
}

}  // namespace

std::vector<HostAlarmChange> host_health_step(HostHealthState& s, const HostInputs& in, const HostLimits& l,
                                              SteadyTime now) {
  std::vector<HostAlarmChange> out;
  const std::string held = " (cleared once not seen for " + hold_text(l.flag_clear_after) + ")";
  if (in.under_voltage || s.under_voltage_seen) {
    const bool on = flag_held(in.under_voltage, s.under_voltage_seen, now, l.flag_clear_after);
    set_alarm(s, out, HostAlarm::under_voltage, on,
        on ? "controller under-voltage: its 5 V supply sagged below what it needs; an SD card can be corrupted so" + held
           : "controller supply voltage normal again");
  }
  if (in.throttled || s.throttled_seen) {
    const bool on = flag_held(in.throttled, s.throttled_seen, now, l.flag_clear_after);
    set_alarm(s, out, HostAlarm::throttled, on,
        on ? "controller throttled: its clock is held down (under-voltage or heat)" + held
           : "controller no longer throttled");
  }
  if (in.temp_c) {
    const double t = *in.temp_c;
    const bool hot = s.active[static_cast<std::size_t>(HostAlarm::hot)];
    const bool on = hot ? t >= l.hot_clear_c : t >= l.hot_c;
    set_alarm(s, out, HostAlarm::hot, on,
        on ? "controller hot: " + format_fixed(t, 1) + " °C (alarm at " + format_value(l.hot_c) + " °C)"
           : "controller temperature normal: " + format_fixed(t, 1) + " °C (below " + format_value(l.hot_clear_c) + " °C)");
    if (l.shed_above_c) {
      const double clear = *l.shed_above_c - l.shed_clear_margin_c;
      s.shedding = s.shedding ? t >= clear : t >= *l.shed_above_c;
    }
  }
  if (!l.shed_above_c) s.shedding = false;
  if (in.life_used_pct || in.pre_eol) {
    const bool worn = s.active[static_cast<std::size_t>(HostAlarm::worn_storage)];
    const int used = in.life_used_pct.value_or(0);
    const bool eol = in.pre_eol && *in.pre_eol >= 2;
    const bool on = eol || (worn ? used >= l.worn_pct - 10 : used >= l.worn_pct);
    std::string why = in.life_used_pct ? "its own estimate: up to " + std::to_string(used) + " % of its life used" : "";
    if (in.pre_eol) {
      why += std::string(why.empty() ? "" : ", ") + "pre-EOL " +
             (*in.pre_eol >= 3 ? "urgent" : *in.pre_eol == 2 ? "warning (80 % of its spare blocks used)" : "normal");
    }
    set_alarm(s, out, HostAlarm::worn_storage, on,
        on ? "controller storage wearing out: " + why + "; plan its replacement and keep a backup"
           : "controller storage wear normal: " + why);
  }
  if (in.written_bytes) {
    s.writes.add(now, *in.written_bytes);
    s.write_mb_per_h = s.writes.mb_per_h(l.write_window);
    if (s.write_mb_per_h) {
      const double r = *s.write_mb_per_h;
      const bool heavy = s.active[static_cast<std::size_t>(HostAlarm::heavy_writes)];
      const bool on = heavy ? r >= l.write_clear_mb_per_h : r >= l.write_alarm_mb_per_h;
      set_alarm(s, out, HostAlarm::heavy_writes, on,
          on ? "controller writes " + format_fixed(r, 1) + " MB/h to its storage (alarm at " +
                   format_value(l.write_alarm_mb_per_h) + " MB/h): an SD card wears out faster"
             : "controller writes " + format_fixed(r, 1) + " MB/h: normal again");
    }
  }
  return out;
}

}  // namespace rules

#include "daemon/shadow/day_tally.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/text/json_out.hpp"

namespace shackd {

void DayTally::add(const TallyCycle& c) {
  if (c.day != day_) {
    day_ = c.day;
    loads_.clear();  // the starts count from the first cycle of the day: what was ON then is no start
    for (auto& [id, last] : last_) last.side = 0;
  }
  const double dt = std::max(0.0, c.dt_s);
  for (const auto& l : c.loads) {
    auto& f = loads_[l.id];
    f.name = l.name;
    f.rated_w = l.rated_w;
    auto [it, first] = last_.try_emplace(l.id);
    Last& last = it->second;
    if (!first) {
      if (l.would_on && !last.would_on) ++f.would_starts;
      if (l.actual_on && *l.actual_on && last.actual_on && !*last.actual_on) ++f.actual_starts;
    }
    const int side = !l.actual_on || *l.actual_on == l.would_on ? 0 : (l.would_on ? 1 : -1);
    if (side != 0) {
      TallySide& s = side > 0 ? f.would_run : f.ran_instead;
      if (l.opened || side != last.side) ++s.spells;
      s.minutes += dt / 60;
      const bool on_site = *l.actual_on;
      if (on_site && l.stop_v && c.battery_v && *c.battery_v < *l.stop_v) s.minutes_under_stop += dt / 60;
      if (l.rated_w > 0 && c.pv_w && c.load_w && c.battery_v && *c.battery_v > 0) {
        const double rest_w = std::max(0.0, *c.load_w - (on_site ? l.rated_w : 0.0));
        const double from_surplus_w = std::min(l.rated_w, std::max(0.0, *c.pv_w - rest_w));
        s.surplus_kwh += from_surplus_w * dt / 3600.0 / 1000.0;
        s.bank_ah += (l.rated_w - from_surplus_w) / *c.battery_v * dt / 3600.0;
      }
    }
    last.would_on = l.would_on;
    if (l.actual_on) last.actual_on = l.actual_on;
    last.side = side;
  }
}

namespace {

void side_json(std::string& out, const TallySide& s) {
  out += fmt::format(R"({{"spells":{},"minutes":{:.1f},"surplus_kwh":{:.3f},"bank_ah":{:.2f},"minutes_under_stop":{:.1f}}})",
                     s.spells, s.minutes, s.surplus_kwh, s.bank_ah, s.minutes_under_stop);
}

}  // namespace

std::string DayTally::json(bool candidate) const {
  std::string out = "{";
  json_out::key(out, "day");
  json_out::string(out, day_);
  // The day's totals first (Home Assistant's state: minutes apart; the loads as its attributes).
  int spells = 0;
  double minutes = 0;
  for (const auto& [id, f] : loads_) {
    spells += f.would_run.spells + f.ran_instead.spells;
    minutes += f.would_run.minutes + f.ran_instead.minutes;
  }
  json_out::key(out, "spells");
  out += std::to_string(spells);
  json_out::key(out, "minutes");
  out += fmt::format("{:.1f}", minutes);
  json_out::key(out, "loads");
  out += '{';
  bool first = true;
  for (const auto& [id, f] : loads_) {
    // A load with nothing to say today is left out: the document stays small (Home Assistant keeps
    // it as attributes).
    if (f.would_run.spells + f.ran_instead.spells + f.would_starts + f.actual_starts == 0) continue;
    if (!first) out += ',';
    first = false;
    json_out::string(out, id);
    out += ":{";
    json_out::key(out, "name");
    json_out::string(out, f.name);
    json_out::key(out, "rated_w");
    out += fmt::format("{:.0f}", f.rated_w);
    json_out::key(out, "would_run");
    side_json(out, f.would_run);
    json_out::key(out, "ran_instead");
    side_json(out, f.ran_instead);
    json_out::key(out, "starts");
    out += fmt::format(fmt::runtime(candidate ? R"({{"candidate":{},"in_force":{}}})" : R"({{"would":{},"actual":{}}})"), f.would_starts,
                       f.actual_starts);
    out += '}';
  }
  out += "}}";
  return out;
}

}  // namespace shackd

#include "daemon/loop/shadow_side.hpp"

#include <fmt/format.h>

#include <utility>

#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/system/clock.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

ShadowSide::Out ShadowSide::out_to(Publisher& publisher, Recorder* recorder, const Config& config, std::int64_t wall_s,
                                   const std::string& site_id) {
  const MqttConfig& m = config.mqtt;
  return {publisher, recorder, m.prefix, wall_s,
          m.discovery ? m.discovery_prefix + "/binary_sensor/shackd_" + site_id + "/" : std::string()};
}

void ShadowSide::candidate(const std::vector<std::string>& sets, const rules::State& state_now,
                           const std::vector<LoadRef>& loads, std::int64_t wall_ms, const Out& out) {
  if (sets == candidate_.sets()) return;
  if (candidate_.armed()) end_candidate(wall_ms, loads, out);
  if (sets.empty()) return;
  candidate_.arm(sets, state_now);
  out.publisher.send(out.prefix + "/candidate", candidate_mode_json(sets), true, 1);
  log::info("candidate: the rules decide every cycle again with {}, from the state in force now; nothing of it is "
            "switched. Where it differs: table candidate_differences, {}/candidate/<load>",
            fmt::format("{}", fmt::join(sets, ", ")), out.prefix);
}

void ShadowSide::end_candidate(std::int64_t wall_ms, const std::vector<LoadRef>& loads, const Out& out) {
  said(candidate_.close_all(wall_ms), "/candidate/", out);
  // What it said stood while it ran: cleared, so that nobody reads an old difference as today's.
  for (const auto& l : loads) out.publisher.send(out.prefix + "/candidate/" + l.id, "", true, 1);
  out.publisher.send(out.prefix + "/candidate", "", true, 1);
  out.publisher.send(out.prefix + "/candidate_day", "", true, 1);
  candidate_day_ = {};
  // Its Home Assistant entities removed (an empty config); a candidate given again announces them again.
  if (!out.discovery_node.empty()) {
    out.publisher.send(out.discovery_node + "candidate_mode/config", "", true, 1);
    for (const auto& l : loads) out.publisher.send(out.discovery_node + l.id + "_candidate/config", "", true, 1);
  }
}

void ShadowSide::after_cycle(const CycleRecord& record, std::int64_t wall_ms, bool shadow, const Out& out) {
  if (shadow) {
    const ShadowInputs in = shadow_inputs(record, wall_ms);
    const ShadowNews news = watch_.after_cycle(in);
    said(news, "/shadow/", out);
    count_day(shadow_day_, record, in, news, "/shadow_day", false, out);
  }
  if (candidate_.armed()) {
    ShadowNews news = candidate_.after_cycle(record, wall_ms);
    const bool ended = !candidate_.armed();
    said(news, "/candidate/", out);
    if (ended) {
      end_candidate(wall_ms, record.loads(), out);
    } else {
      count_day(candidate_day_, record, candidate_.inputs(), news, "/candidate_day", true, out);
    }
  }
}

void ShadowSide::count_day(Day& day, const CycleRecord& r, const ShadowInputs& in, const ShadowNews& news,
                           const std::string& topic, bool candidate, const Out& out) {
  TallyCycle c;
  c.day = local_day(r.wall_s).value_or("");
  // A stall (a slow card, a stopped process) is not minutes of difference: a cycle counts 60 s at most.
  if (day.last_now) c.dt_s = std::min(60.0, std::chrono::duration<double>(r.now - *day.last_now).count());
  day.last_now = r.now;
  if (r.snap.pv_w) c.pv_w = r.snap.pv_w->value;
  if (r.snap.load_w) c.load_w = r.snap.load_w->value;
  c.battery_v = r.decision.battery.measured_v;
  const auto& loads = r.loads();
  for (std::size_t i = 0; i < in.loads.size() && i < loads.size(); ++i) {
    const LoadRef& l = loads[i];
    TallyLoad t{in.loads[i].id, in.loads[i].name, in.loads[i].would_on, in.loads[i].actual_on,
                rated_draw_w(r.profiles().rules, l), std::nullopt, false};
    for (const auto& row : news.rows) t.opened = t.opened || (row.load_id == t.id && !row.end_ms);
    if (l.kind == LoadRef::Kind::miner && l.index < r.profiles().rules.miners.size()) {
      t.stop_v = rules::effective_thresholds(r.profiles().rules.miners[l.index], r.profiles().rules.site).stop_v;
    }
    c.loads.push_back(std::move(t));
  }
  const std::string before = day.tally.day();
  day.tally.add(c);
  if (!news.rows.empty() || before != day.tally.day() || out.wall_s - day.sent_s >= 60) {
    out.publisher.send(out.prefix + topic, day.tally.json(candidate), true, 0);
    day.sent_s = out.wall_s;
  }
}

void ShadowSide::stop(std::int64_t wall_ms, bool shadow, const std::vector<LoadRef>& loads, const Out& out) {
  if (candidate_.armed()) end_candidate(wall_ms, loads, out);
  if (!shadow) return;
  said(watch_.close_all(wall_ms), "/shadow/", out);
  // What the retained documents said stood while shackd ran: cleared, so that nobody reads an old
  // disagreement as the site's now.
  for (const auto& l : loads) out.publisher.send(out.prefix + "/shadow/" + l.id, "", true, 1);
  out.publisher.send(out.prefix + "/shadow", "", true, 1);
  out.publisher.send(out.prefix + "/shadow_day", "", true, 1);
  // Home Assistant's shadow entities removed (an empty config, HA's MQTT discovery docs): a shackd
  // started again in shadow mode announces them again; one that commands has none.
  if (!out.discovery_node.empty()) {
    out.publisher.send(out.discovery_node + "shadow_mode/config", "", true, 1);
    for (const auto& l : loads) out.publisher.send(out.discovery_node + l.id + "_shadow/config", "", true, 1);
  }
}

void ShadowSide::said(const ShadowNews& news, const std::string& base, const Out& out) {
  for (const auto& line : news.lines) log::info("{}", line);
  for (const auto& line : news.warnings) log::warn("{}", line);
  if (!news.rows.empty() && out.recorder) {
    Records rec;
    rec.wall_s = out.wall_s;
    for (const auto& r : news.rows) rec.shadow[spell_key(r)] = r;
    out.recorder->post(std::move(rec));
  }
  for (const auto& t : news.topics) out.publisher.send(out.prefix + base + t.load_id, t.payload, true, 1);
}

}  // namespace shackd

#include "daemon/loop/shadow_side.hpp"

#include <fmt/format.h>

#include <utility>

#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

std::string shadow_discovery_node(bool discovery, const std::string& discovery_prefix, const std::string& site_id) {
  return discovery ? discovery_prefix + "/binary_sensor/shackd_" + site_id + "/" : std::string();
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
  // Its Home Assistant entities removed (an empty config); a candidate given again announces them again.
  if (!out.discovery_node.empty()) {
    out.publisher.send(out.discovery_node + "candidate_mode/config", "", true, 1);
    for (const auto& l : loads) out.publisher.send(out.discovery_node + l.id + "_candidate/config", "", true, 1);
  }
}

void ShadowSide::after_cycle(const CycleRecord& record, std::int64_t wall_ms, bool shadow, const Out& out) {
  if (shadow) said(watch_.after_cycle(record, wall_ms), "/shadow/", out);
  if (candidate_.armed()) {
    ShadowNews news = candidate_.after_cycle(record, wall_ms);
    const bool ended = !candidate_.armed();
    said(news, "/candidate/", out);
    if (ended) end_candidate(wall_ms, record.loads(), out);
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

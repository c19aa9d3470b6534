#include "daemon/shadow/shadow_watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "daemon/site/loads.hpp"
#include "daemon/text/json_out.hpp"
#include "rules/reason.hpp"

namespace shackd {

ShadowLoad shadow_load(const LoadRef& l, const rules::LoadDecision& d, std::optional<bool> actual_on) {
  return ShadowLoad{.id = l.id,
                    .name = l.name,
                    .would_on = d.on,
                    .reason_code = static_cast<int>(d.reason.code),
                    .reason = rules::describe(d.reason),
                    .actual_on = actual_on};
}

ShadowInputs shadow_inputs(const CycleRecord& r, std::int64_t wall_ms) {
  ShadowInputs in;
  in.wall_ms = wall_ms;
  for (const auto& l : r.loads()) {
    std::optional<bool> actual;
    if (const auto it = r.relay.find(l.id); r.relays && it != r.relay.end()) actual = it->second.observed;
    in.loads.push_back(shadow_load(l, decision_for(r.decision, l), actual));
  }
  return in;
}

namespace {

const char* shadow_word(bool on) { return on ? "ON" : "OFF"; }

// What makes a published document differ: agreement, both states, the reason's code (its numbers
// move every cycle and are not news: the spell's reason is the one it began with).
std::string said_key(const ShadowLoad& l) {
  const bool differ = l.actual_on && *l.actual_on != l.would_on;
  return fmt::format("{}/{}/{}/{}", l.actual_on ? (differ ? "differ" : "agree") : "unknown", l.would_on ? 1 : 0,
                     l.actual_on ? (*l.actual_on ? "1" : "0") : "-", differ ? l.reason_code : -1);
}

std::string spell_seconds(std::int64_t ms) { return fmt::format("{:.0f} s", static_cast<double>(ms) / 1000.0); }

}  // namespace

std::string shadow_json(const ShadowLoad& l, std::int64_t since_ms, const ShadowVoice& voice) {
  std::string out = "{";
  json_out::key(out, "agree");
  out += !l.actual_on ? "null" : (*l.actual_on == l.would_on ? "true" : "false");
  json_out::key(out, voice.candidate ? "candidate" : "would");
  json_out::string(out, shadow_word(l.would_on));
  json_out::key(out, voice.candidate ? "in_force" : "actual");
  if (l.actual_on) json_out::string(out, shadow_word(*l.actual_on));
  else out += "null";
  json_out::key(out, "reason");
  out += '{';
  json_out::key(out, "code");
  out += std::to_string(l.reason_code);
  json_out::key(out, "text");
  json_out::string(out, l.reason);
  out += '}';
  json_out::key(out, "since");
  out += std::to_string(since_ms / 1000);
  if (voice.candidate) {
    json_out::key(out, "set");
    json_out::string(out, voice.sets);
  } else {
    // Said in every document: this shackd commands nothing, whatever it would do.
    json_out::key(out, "switches");
    json_out::string(out, "nothing");
  }
  out += '}';
  return out;
}

std::string shadow_mode_json() { return R"({"shadow":true,"switches":"nothing"})"; }

void ShadowWatch::close(const std::string& id, std::int64_t wall_ms, const std::string& name, const char* why,
                        ShadowNews& news) {
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  ShadowRow row = std::move(it->second);
  open_.erase(it);
  row.end_ms = std::max(wall_ms, row.start_ms);
  news.lines.push_back(
      voice_.candidate
          ? fmt::format("candidate: {}: {} after {} ({} cycle(s) in which the candidate had it {} and the profiles in force {})",
                        name, why, spell_seconds(*row.end_ms - row.start_ms), row.cycles, shadow_word(row.would_on),
                        shadow_word(row.actual_on))
          : fmt::format("shadow: {}: {} after {} ({} cycle(s) in which it would have been {} and the site had it {})", name, why,
                        spell_seconds(*row.end_ms - row.start_ms), row.cycles, shadow_word(row.would_on),
                        shadow_word(row.actual_on)));
  news.rows.push_back(std::move(row));
}

ShadowNews ShadowWatch::after_cycle(const ShadowInputs& in) {
  ShadowNews news;
  std::set<std::string> seen;
  for (const auto& l : in.loads) {
    seen.insert(l.id);
    const bool differ = l.actual_on && *l.actual_on != l.would_on;
    const auto it = open_.find(l.id);
    if (it != open_.end()) {
      const ShadowRow& o = it->second;
      if (!l.actual_on) {
        close(l.id, in.wall_ms, l.name, "its relay's state is no longer known", news);
      } else if (!differ) {
        close(l.id, in.wall_ms, l.name, "agrees again", news);
      } else if (o.would_on != l.would_on || o.actual_on != *l.actual_on || o.reason_code != l.reason_code) {
        close(l.id, in.wall_ms, l.name, "another reason", news);
      } else {
        ++it->second.cycles;  // the same spell: counted, not written
      }
    }
    if (differ && !open_.count(l.id)) {
      ShadowRow row{.load_id = l.id,
                    .start_ms = in.wall_ms,
                    .end_ms = std::nullopt,
                    .would_on = l.would_on,
                    .actual_on = *l.actual_on,
                    .reason_code = l.reason_code,
                    .reason = l.reason,
                    .cycles = 1,
                    .candidate = voice_.candidate,
                    .candidate_sets = voice_.candidate ? voice_.sets : std::string()};
      news.lines.push_back(voice_.candidate ? fmt::format("candidate: {}: the candidate has it {}, the profiles in force {} ({})",
                                                          l.name, shadow_word(l.would_on), shadow_word(*l.actual_on), l.reason)
                                            : fmt::format("shadow: {}: would be {}, the site has it {} ({})", l.name,
                                                          shadow_word(l.would_on), shadow_word(*l.actual_on), l.reason));
      news.rows.push_back(row);
      open_.emplace(l.id, std::move(row));
    }
    // The retained document, when what it says changed.
    std::string key = said_key(l);
    const auto s = said_.find(l.id);
    if (!republish_ && s != said_.end() && s->second.key == key) continue;
    const auto agreement = [](const std::string& k) { return k.substr(0, k.find('/')); };
    std::int64_t since = in.wall_ms;
    if (differ) since = open_.at(l.id).start_ms;
    else if (s != said_.end() && agreement(s->second.key) == agreement(key)) since = s->second.since_ms;
    news.topics.push_back({l.id, shadow_json(l, since, voice_)});
    said_[l.id] = {std::move(key), since};
  }
  republish_ = false;
  // A load gone with a reload: its spell ends here.
  for (auto it = open_.begin(); it != open_.end();) {
    const std::string id = (it++)->first;
    if (!seen.count(id)) close(id, in.wall_ms, id, "no longer a load", news);
  }
  for (auto it = said_.begin(); it != said_.end();) {
    if (!seen.count(it->first)) {
      news.topics.push_back({it->first, ""});  // cleared
      it = said_.erase(it);
    } else {
      ++it;
    }
  }
  return news;
}

ShadowNews ShadowWatch::close_all(std::int64_t wall_ms) {
  ShadowNews news;
  while (!open_.empty()) {
    const std::string id = open_.begin()->first;
    close(id, wall_ms, id, "shackd stopped", news);
  }
  return news;
}

}  // namespace shackd

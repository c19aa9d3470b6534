#pragma once
// Shadow mode's comparison (issue 60): shackd decides beside another controller and switches
// nothing; each cycle, for each load, its decision is held against the state the load's relay
// reports (the relay manager's observed state, from the relay's own messages). Where they differ
// it keeps a spell, not a row a cycle (an SD card lives months): opened at the first cycle that
// disagrees, closed at the first that agrees again, that no longer knows the relay's state, or
// that gives another reason; and it says so once, retained, on <prefix>/shadow/<load id>.
//
// One face: after_cycle(inputs) -> news, from values (the loads, their decision and reason, the
// relays' observed states, the cycle's wall time); it reads no clock and does no I/O. The daemon
// hands the news on: the spells to the recorder, the topics to the publisher, the lines to the log.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/store/shadow_rows.hpp"

namespace shackd {

// One load this cycle, as the daemon saw it after the relays.
struct ShadowLoad {
  std::string id;    // the relay's id (<prefix>/shadow/<id>, the table's load_id)
  std::string name;  // for people
  bool would_on = false;          // shackd's decision
  int reason_code = 0;            // rules::ReasonCode
  std::string reason;             // rules::describe(reason)
  std::optional<bool> actual_on;  // what its relay last said; nullopt: it has said nothing yet
};

// Who compares with whom: shadow mode (shackd's decision against the relay's reported state) or a
// candidate profile (the candidate's decision against the one in force: would_on is the
// candidate's, actual_on the in-force decision). Only the words, the documents' keys and the
// table differ.
struct ShadowVoice {
  bool candidate = false;
  std::string sets;  // a candidate's changes, as configured ("miners.X.start_voltage=53, ..."): kept in its rows
};

struct ShadowInputs {
  std::int64_t wall_ms = 0;  // the cycle's wall time (the journal's)
  std::vector<ShadowLoad> loads;
};

struct ShadowNews {
  // Spells opened (end_ms unset), closed or split this cycle: for the recorder.
  std::vector<ShadowRow> rows;
  // Retained <prefix>/shadow/<load_id> documents that changed (shadow_json).
  struct Topic {
    std::string load_id;
    std::string payload;
  };
  std::vector<Topic> topics;
  std::vector<std::string> lines;     // for the log, at info
  std::vector<std::string> warnings;  // for the log, at warn (a candidate that no longer applies)
  bool empty() const { return rows.empty() && topics.empty() && lines.empty() && warnings.empty(); }
};

// One load as the comparison takes it: `decided` is the decision held against `actual_on`.
ShadowLoad shadow_load(const LoadRef& load, const rules::LoadDecision& decided, std::optional<bool> actual_on);

// The comparison's projection of a cycle's record: each load's decision and reason, and what its
// relay itself last said (never what shackd would command: it commands nothing).
ShadowInputs shadow_inputs(const CycleRecord& record, std::int64_t wall_ms);

class ShadowWatch {
 public:
  explicit ShadowWatch(ShadowVoice voice = {}) : voice_(std::move(voice)) {}
  const ShadowVoice& voice() const { return voice_; }
  ShadowNews after_cycle(const ShadowInputs& in);
  ShadowNews after_cycle(const CycleRecord& record, std::int64_t wall_ms) { return after_cycle(shadow_inputs(record, wall_ms)); }
  // The stop: every open spell closed at `wall_ms` (its end is shackd's, not the site's).
  ShadowNews close_all(std::int64_t wall_ms);
  // Every topic again (a reconnect, Home Assistant's birth): the next cycle republishes each load.
  void republish() { republish_ = true; }
  // The spells open now, by load id.
  const std::map<std::string, ShadowRow>& open() const { return open_; }

 private:
  // What <prefix>/shadow/<id> last said, as a key of its fields (an unchanged one is not sent again).
  struct Said {
    std::string key;
    std::int64_t since_ms = 0;  // when the current agreement or disagreement began
  };
  void close(const std::string& id, std::int64_t wall_ms, const std::string& name, const char* why, ShadowNews& news);
  ShadowVoice voice_;
  std::map<std::string, ShadowRow> open_;
  std::map<std::string, Said> said_;
  bool republish_ = false;
};

// The retained document: {"agree":false,"would":"OFF","actual":"ON","reason":{"code":41,"text":...},
// "since":<unix s>,"switches":"nothing"}; agree true once they agree again, null (and actual null)
// while the relay has said nothing. A candidate's (<prefix>/candidate/<id>): {"agree":false,
// "candidate":"OFF","in_force":"ON","reason":{...},"since":<unix s>,"set":"miners.X.start_voltage=53"}.
std::string shadow_json(const ShadowLoad& l, std::int64_t since_ms, const ShadowVoice& voice = {});
// <prefix>/shadow, retained while a shadow runs (`status`, Home Assistant): {"shadow":true,"switches":"nothing"}.
std::string shadow_mode_json();

}  // namespace shackd

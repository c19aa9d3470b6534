#pragma once
// One error convention at the components' boundaries (issue 57, item 6): what a boundary refuses
// (a mode command, a setting over MQTT or from the database, a reload) comes back as a value that
// names its parts, not as a string beside a bool or an out-parameter. A caller that only says it
// uses `said`; one that shows it field by field (the event's load, a test) reads the parts.
//
// Kept as they are, on purpose: the config's checks return a list of errors (a file is refused
// whole, with everything wrong in it at once), and the rules never refuse: they decide, with a
// reason.
#include <string>
#include <utility>
#include <variant>

namespace shackd {

struct Refusal {
  std::string load_id;  // the load it addressed: "" when it matched none (or addresses none)
  std::string field;    // what it addressed: "load", "mode", "start_voltage", "config", "loop.shadow"
  std::string value;    // the value given, cleaned and cut where it entered ("" when none)
  std::string rule;     // the rule it broke
  std::string said;     // the sentence for the log and the event: names the field, the value and the rule
};

// A T, or why not.
template <class T>
class Refused {
 public:
  Refused(T value) : v_(std::in_place_index<0>, std::move(value)) {}          // NOLINT: implicit on purpose
  Refused(Refusal why) : v_(std::in_place_index<1>, std::move(why)) {}        // NOLINT: implicit on purpose
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Refusal& refusal() const { return std::get<1>(v_); }

 private:
  std::variant<T, Refusal> v_;
};

}  // namespace shackd

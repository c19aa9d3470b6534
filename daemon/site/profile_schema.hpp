#pragma once
// The profiles' schema, declared once (issue 57): one table per entity (the site's preferences, a
// miner profile, an HVAC zone), each field with its key, type, unit, range, default, whether it
// can be set over MQTT and one line of doc. The tables themselves are daemon/site/profile_fields.cpp.
//
// A field's key is its YAML key under `profiles:`, its column in the entity's SQLite table and,
// when it is settable, the <field> of <prefix>/load/<id>/<field>/set. What the tables drive: the
// YAML overlay and `profiles export` (daemon/config/profiles_yaml.cpp), what changed
// (profiles_diff.cpp), the database's rows (daemon/store/profile_store.cpp), each value's range
// and words (validate_stored), the settings over MQTT (daemon/config/mqtt_settings.cpp) and the
// key tables of docs/guide.md (tests/docs/config_keys.cpp). The columns are made by the numbered
// migrations in schema/, the only place that creates tables; tests/store/profile_schema_test.cpp
// holds each field against its column: type, NOT NULL, DEFAULT and CHECK range.
//
// The rules' structs stay as they are: each field maps onto its member through `get` and `put`.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/site/profiles.hpp"

namespace shackd::schema {

// What the owner writes. A `seconds` field is a whole number of seconds; a `choice` one of its
// words; a boolean is true or false (0 or 1 in the database).
enum class Type { real, integer, seconds, boolean, text, choice };

// How a value is held between the YAML, the database and the profiles: a REAL, an INTEGER (also
// seconds and booleans) or TEXT (also choices); monostate is null.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Row = std::vector<Value>;  // one profile's values, in its entity's field order

enum class Storage { real, integer, text };
Storage storage_of(Type t);

// A closed range unless `above`; no bound where none is given.
struct Range {
  std::optional<double> min, max;
  bool above = false;  // the value must be above `min`, not at it
  bool contains(double v) const;
  // The rule in the words messages use: "between 1 and 10", "at least 0", "above 0"; "" for none.
  std::string words() const;
};

struct Field {
  std::string_view key;
  Type type = Type::real;
  std::string_view unit;  // "V", "W", "s", "°C", ...; empty for none
  std::string_view doc;   // one line, for the guide's key tables
  Value fallback;         // a new miner's or zone's value (the column's DEFAULT); the seed's, for the site
  bool required = false;  // a new miner or zone must give it
  bool nullable = false;  // null is a value: "none" (a zone without a fan, a miner without a rated hashrate)
  bool settable = false;  // settable over MQTT, with mqtt.allow_settings
  Range range;
  std::vector<std::string> choices;  // Type::choice: its words, in the order messages list them
  // The field's value in the profiles, `i` the miner's or zone's index (the site has one), and
  // back. `put` returns why a value cannot be held, in the owner's words without the profile's
  // name ("schedule '25:00' is not a window like 18:00-10:00"), or "".
  std::function<Value(const StoredProfiles&, std::size_t)> get;
  std::function<std::string(StoredProfiles&, std::size_t, const Value&)> put;

  // How the tables are written: real("power_w", at, "W", "doc").at_least(0).need().
  Field& need() { required = true; return *this; }
  Field& by_default(Value v) { fallback = std::move(v); return *this; }
  Field& over_mqtt() { settable = true; return *this; }
  Field& or_none() { nullable = true; return *this; }
  Field& at_least(double min) { range.min = min; return *this; }
  Field& above(double min) { range.min = min; range.above = true; return *this; }
  Field& between(double min, double max) { range.min = min; range.max = max; return *this; }
};

struct Entity {
  std::string_view kind;   // "site", "miner", "zone": the word of messages and `profiles:` ("miners")
  std::string_view table;  // its SQLite table
  std::vector<Field> fields;

  std::size_t index(std::string_view key) const;  // fields.size() when it has no such field
  const Field* find(std::string_view key) const;
  std::vector<std::string_view> keys() const;
};

const Entity& site();
const Entity& miner();
const Entity& zone();

// The profile `i` of `e`'s kind as a row, and a row back into it ("miner 'X': " before each
// problem; a zone's heat_miner is found among the miners already there).
Row row_of(const Entity& e, const StoredProfiles& p, std::size_t i = 0);
void from_row(const Entity& e, const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& problems);
// A new miner's or zone's row: each field's default, null where a value is required.
Row new_row(const Entity& e);

// Each value outside its field's range or words: "miner 'X': priority 11 must be between 1 and
// 10". The rules' own checks (rules::validate) come after, in validate_stored.
std::vector<std::string> check_values(const StoredProfiles& p);
// One value against its field: the problem after "<field> ", or "".
std::string check_value(const Field& f, const Value& v);

// "miner 'Primary S21+'", "zone #2" (no name), "site".
std::string who(const Entity& e, const StoredProfiles& p, std::size_t i);

// "a, b or c": a choice's words as messages list them.
std::string one_of(const std::vector<std::string>& words);

// The value as the owner writes it: 50.0, 600, true, "18:00-10:00", null.
std::string yaml_text(const Field& f, const Value& v);

}  // namespace shackd::schema

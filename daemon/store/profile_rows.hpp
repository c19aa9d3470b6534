#pragma once
// One table of fields per profile kind, shared by the database columns, the YAML keys of
// `profiles:` and the export, so the three can never disagree on a name or a type.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/site/profiles.hpp"

namespace shackd::rows {

enum class Kind { integer, real, text, boolean };

struct Field {
  std::string_view name;  // column and YAML key
  Kind kind;
  bool nullable = false;  // NULL / YAML null allowed
  bool required = false;  // a new profile must give it (no default)
};

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;  // boolean: 0/1
using Row = std::vector<Value>;  // in field order

const std::vector<Field>& site_fields();
const std::vector<Field>& miner_fields();
const std::vector<Field>& zone_fields();

Row site_row(const StoredProfiles& p);
Row miner_row(const StoredProfiles& p, std::size_t i);
Row zone_row(const StoredProfiles& p, std::size_t i);

// Rows back into profiles. Values a struct cannot hold (an unknown mode, a malformed schedule,
// a heat_miner that names no miner) become messages in `errors`.
void site_from_row(const Row& row, StoredProfiles& p, std::vector<std::string>& errors);
void miner_from_row(const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& errors);
// Zones last: heat_miner is resolved by name against p.rules.miners.
void zone_from_row(const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& errors);

// The defaults a profile gets for the fields it does not give (the schema's column defaults).
Row new_miner_row();
Row new_zone_row();

std::size_t index_of(const std::vector<Field>& fields, std::string_view name);  // fields.size() if absent

}  // namespace shackd::rows

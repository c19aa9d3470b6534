#include "daemon/site/profile_schema.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rules/format.hpp"

namespace shackd::schema {

Storage storage_of(Type t) {
  switch (t) {
    case Type::real: return Storage::real;
    case Type::integer:
    case Type::seconds:
    case Type::boolean: return Storage::integer;
    case Type::text:
    case Type::choice: return Storage::text;
  }
  return Storage::text;
}

bool Range::contains(double v) const {
  if (min && (above ? !(v > *min) : !(v >= *min))) return false;
  return !(max && !(v <= *max));
}

namespace {
std::string bound(double v) { return v == std::floor(v) && std::fabs(v) < 1e15 ? fmt::format("{:.0f}", v) : rules::format_value(v); }
}  // namespace

std::string Range::words() const {
  if (min && max) return fmt::format("between {} and {}", bound(*min), bound(*max));
  if (min) return fmt::format("{} {}", above ? "above" : "at least", bound(*min));
  if (max) return fmt::format("at most {}", bound(*max));
  return "";
}

std::size_t Entity::index(std::string_view key) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].key == key) return i;
  }
  return fields.size();
}

const Field* Entity::find(std::string_view key) const {
  const std::size_t i = index(key);
  return i < fields.size() ? &fields[i] : nullptr;
}

std::vector<std::string_view> Entity::keys() const {
  std::vector<std::string_view> out;
  for (const auto& f : fields) out.push_back(f.key);
  return out;
}

std::string one_of(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t k = 0; k < words.size(); ++k) {
    out += (k == 0 ? "" : k + 1 == words.size() ? " or " : ", ") + words[k];
  }
  return out;
}

std::string who(const Entity& e, const StoredProfiles& p, std::size_t i) {
  if (e.kind == "site") return "site";
  const std::string& name = e.kind == "miner" ? p.rules.miners.at(i).name : p.rules.zones.at(i).name;
  return name.empty() ? fmt::format("{} #{}", e.kind, i + 1) : fmt::format("{} '{}'", e.kind, name);
}

Row row_of(const Entity& e, const StoredProfiles& p, std::size_t i) {
  Row row;
  row.reserve(e.fields.size());
  for (const auto& f : e.fields) row.push_back(f.get(p, i));
  return row;
}

void from_row(const Entity& e, const Row& row, StoredProfiles& p, std::size_t i, std::vector<std::string>& problems) {
  // The name first, so that each problem says whose it is.
  if (const std::size_t name = e.index("name"); name < e.fields.size()) e.fields[name].put(p, i, row.at(name));
  const std::string whose = who(e, p, i);
  for (std::size_t k = 0; k < e.fields.size(); ++k) {
    if (e.fields[k].key == "name") continue;
    if (const std::string why = e.fields[k].put(p, i, row.at(k)); !why.empty()) problems.push_back(whose + ": " + why);
  }
  p.sync_relays();
}

Row new_row(const Entity& e) {
  Row row;
  for (const auto& f : e.fields) row.push_back(f.required ? Value() : f.fallback);
  return row;
}

std::string check_value(const Field& f, const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  if (f.type == Type::choice) {
    const std::string* word = std::get_if<std::string>(&v);
    for (const auto& c : f.choices) {
      if (word && *word == c) return "";
    }
    return fmt::format("'{}' must be {}", word ? *word : std::string("?"), one_of(f.choices));
  }
  if (!f.range.min && !f.range.max) return "";
  double x = 0;
  std::string shown;
  if (const auto* d = std::get_if<double>(&v)) {
    x = *d;
    shown = rules::format_value(*d);
  } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
    x = static_cast<double>(*n);
    shown = std::to_string(*n);
  } else {
    return "";
  }
  if (std::isnan(x)) return "";  // rules::validate(): "must be a number"
  return f.range.contains(x) ? "" : fmt::format("{} must be {}", shown, f.range.words());
}

std::vector<std::string> check_values(const StoredProfiles& p) {
  std::vector<std::string> out;
  const auto check = [&](const Entity& e, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& f : e.fields) {
        if (const std::string why = check_value(f, f.get(p, i)); !why.empty()) {
          out.push_back(fmt::format("{}: {} {}", who(e, p, i), f.key, why));
        }
      }
    }
  };
  check(site(), 1);
  check(miner(), p.rules.miners.size());
  check(zone(), p.rules.zones.size());
  return out;
}

std::string yaml_text(const Field& f, const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "null";
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    if (f.type == Type::boolean) return *i ? "true" : "false";
    return std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&v)) return rules::format_value(*d);
  // Double-quoted, so that text is never read back as a number, a boolean or null.
  std::string out = "\"";
  for (char c : std::get<std::string>(v)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace shackd::schema

#include "daemon/config/profiles_diff.hpp"

#include <fmt/format.h>

#include <map>

#include "daemon/site/profile_schema.hpp"
#include "rules/format.hpp"

namespace shackd {

namespace {

using schema::Entity;
using schema::Row;
using schema::Value;

std::string shown(const Value& v, schema::Type type) {
  if (std::holds_alternative<std::monostate>(v)) return "null";
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    if (type == schema::Type::boolean) return *i ? "true" : "false";
    return std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&v)) return rules::format_value(*d);
  return "'" + std::get<std::string>(v) + "'";
}

// "start_voltage 50 -> 50.5, relay_id 'a' -> 'b'"
std::string changed_fields(const Entity& e, const Row& a, const Row& b) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < e.fields.size() && i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) {
      const auto& f = e.fields[i];
      parts.push_back(fmt::format("{} {} -> {}", f.key, shown(a[i], f.type), shown(b[i], f.type)));
    }
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

void diff_list(const Entity& e, const StoredProfiles& before, std::size_t before_n, const StoredProfiles& after,
               std::size_t after_n, ProfileChanges& out, std::vector<std::string>& removed) {
  const std::string kind(e.kind);
  const std::size_t name_col = e.index("name");
  std::map<std::string, Row> old, now;
  std::vector<std::string> old_order, now_order;
  for (std::size_t i = 0; i < before_n; ++i) {
    Row r = schema::row_of(e, before, i);
    old_order.push_back(std::get<std::string>(r[name_col]));
    old.emplace(old_order.back(), std::move(r));
  }
  for (std::size_t i = 0; i < after_n; ++i) {
    Row r = schema::row_of(e, after, i);
    now_order.push_back(std::get<std::string>(r[name_col]));
    now.emplace(now_order.back(), std::move(r));
  }
  for (const auto& name : old_order) {
    if (!now.count(name)) {
      out.lines.push_back(fmt::format("{} '{}': removed (not named under profiles.{}s)", kind, name, kind));
      removed.push_back(name);
    }
  }
  for (const auto& name : now_order) {
    const auto it = old.find(name);
    if (it == old.end()) {
      out.lines.push_back(fmt::format("{} '{}': added", kind, name));
    } else if (it->second != now.at(name)) {
      out.lines.push_back(fmt::format("{} '{}': {}", kind, name, changed_fields(e, it->second, now.at(name))));
    }
  }
}

}  // namespace

ProfileChanges diff_profiles(const StoredProfiles& before, const StoredProfiles& after) {
  ProfileChanges out;
  const Row a = schema::row_of(schema::site(), before), b = schema::row_of(schema::site(), after);
  if (a != b) out.lines.push_back("site: " + changed_fields(schema::site(), a, b));
  diff_list(schema::miner(), before, before.rules.miners.size(), after, after.rules.miners.size(), out,
            out.removed_miners);
  diff_list(schema::zone(), before, before.rules.zones.size(), after, after.rules.zones.size(), out, out.removed_zones);
  return out;
}

}  // namespace shackd

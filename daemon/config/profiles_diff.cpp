#include "daemon/config/profiles_diff.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "daemon/store/profile_rows.hpp"
#include "rules/format.hpp"

namespace shackd {

namespace {

using rows::Field;
using rows::Row;
using rows::Value;

std::string shown(const Value& v, rows::Kind kind) {
  if (std::holds_alternative<std::monostate>(v)) return "null";
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    if (kind == rows::Kind::boolean) return *i ? "true" : "false";
    return std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&v)) return rules::format_value(*d);
  return "'" + std::get<std::string>(v) + "'";
}

// "start_voltage 50 -> 50.5, relay_id 'a' -> 'b'"
std::string changed_fields(const std::vector<Field>& fields, const Row& a, const Row& b) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < fields.size() && i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) {
      parts.push_back(fmt::format("{} {} -> {}", fields[i].name, shown(a[i], fields[i].kind), shown(b[i], fields[i].kind)));
    }
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

template <typename RowOf>
void diff_list(const char* kind, const std::vector<Field>& fields, std::size_t before_n, std::size_t after_n,
               RowOf before_row, RowOf after_row, ProfileChanges& out, std::vector<std::string>& removed) {
  const std::size_t name_col = rows::index_of(fields, "name");
  std::map<std::string, Row> old, now;
  std::vector<std::string> old_order, now_order;
  for (std::size_t i = 0; i < before_n; ++i) {
    Row r = before_row(i);
    old_order.push_back(std::get<std::string>(r[name_col]));
    old.emplace(old_order.back(), std::move(r));
  }
  for (std::size_t i = 0; i < after_n; ++i) {
    Row r = after_row(i);
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
      out.lines.push_back(fmt::format("{} '{}': {}", kind, name, changed_fields(fields, it->second, now.at(name))));
    }
  }
}

}  // namespace

ProfileChanges diff_profiles(const StoredProfiles& before, const StoredProfiles& after) {
  ProfileChanges out;
  const Row a = rows::site_row(before), b = rows::site_row(after);
  if (a != b) out.lines.push_back("site: " + changed_fields(rows::site_fields(), a, b));
  diff_list("miner", rows::miner_fields(), before.rules.miners.size(), after.rules.miners.size(),
            std::function<Row(std::size_t)>([&](std::size_t i) { return rows::miner_row(before, i); }),
            std::function<Row(std::size_t)>([&](std::size_t i) { return rows::miner_row(after, i); }), out,
            out.removed_miners);
  diff_list("zone", rows::zone_fields(), before.rules.zones.size(), after.rules.zones.size(),
            std::function<Row(std::size_t)>([&](std::size_t i) { return rows::zone_row(before, i); }),
            std::function<Row(std::size_t)>([&](std::size_t i) { return rows::zone_row(after, i); }), out,
            out.removed_zones);
  return out;
}

}  // namespace shackd

#pragma once
// How the tables of daemon/site/profile_fields.cpp are written: one call per field, naming its
// key, where it lives in the profiles, its unit and its doc; the rest by the builders of
// schema::Field (need(), by_default(), between(), ...). Only profile_fields.cpp includes this.
#include <fmt/format.h>

#include <chrono>
#include <initializer_list>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "daemon/site/profile_schema.hpp"

namespace shackd::schema::build {

// Where a field lives: a root (the rules' profile or the extras of the site, miner `i` or zone
// `i`) and a path of members from it: At<MinerRules, &rules::MinerProfile::timing,
// &rules::Timing::min_on>. Callable on const and mutable profiles alike.
struct SiteRules {
  template <typename P> auto& operator()(P& p, std::size_t) const { return p.rules.site; }
};
struct SiteExtra {
  template <typename P> auto& operator()(P& p, std::size_t) const { return p.site; }
};
struct MinerRules {
  template <typename P> auto& operator()(P& p, std::size_t i) const { return p.rules.miners[i]; }
};
struct MinerExtra {
  template <typename P> auto& operator()(P& p, std::size_t i) const { return p.miners[i]; }
};
struct ZoneRules {
  template <typename P> auto& operator()(P& p, std::size_t i) const { return p.rules.zones[i]; }
};
struct ZoneExtra {
  template <typename P> auto& operator()(P& p, std::size_t i) const { return p.zones[i]; }
};

template <typename Root, auto... Members>
struct At {
  template <typename P> auto& operator()(P& p, std::size_t i) const { return (Root{}(p, i) .* ... .* Members); }
};

// The member a locator reaches, without const or reference.
template <typename Locate>
using Member = std::remove_cvref_t<decltype(std::declval<Locate>()(std::declval<StoredProfiles&>(), std::size_t{}))>;

inline double as_real(const Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::numeric_limits<double>::quiet_NaN();  // null: validate() says "must be a number"
}
inline std::int64_t as_integer(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v); d && std::isfinite(*d) && std::fabs(*d) < 9e18) return std::llround(*d);
  return 0;
}
inline std::string as_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

inline Field make(std::string_view key, Type type, std::string_view unit, std::string_view doc) {
  Field f;
  f.key = key;
  f.type = type;
  f.unit = unit;
  f.doc = doc;
  return f;
}

// A number in volts, watts, °C ...; a std::optional<double> member is nullable (null: none).
template <typename Locate>
Field real(std::string_view key, Locate at, std::string_view unit, std::string_view doc) {
  Field f = make(key, Type::real, unit, doc);
  if constexpr (std::is_same_v<Member<Locate>, std::optional<double>>) {
    f.nullable = true;
    f.get = [at](const StoredProfiles& p, std::size_t i) -> Value {
      const auto& v = at(p, i);
      return v ? Value(*v) : Value();
    };
    f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
      at(p, i) = std::holds_alternative<std::monostate>(v) ? std::nullopt : std::optional<double>(as_real(v));
      return std::string();
    };
  } else {
    f.get = [at](const StoredProfiles& p, std::size_t i) -> Value { return at(p, i); };
    f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
      at(p, i) = as_real(v);
      return std::string();
    };
  }
  return f;
}

// A whole number held in an int. One far outside any range is held as +-1,000,000, which its
// range refuses with the value it can show.
template <typename Locate>
Field integer(std::string_view key, Locate at, std::string_view unit, std::string_view doc) {
  Field f = make(key, Type::integer, unit, doc);
  f.get = [at](const StoredProfiles& p, std::size_t i) -> Value { return std::int64_t{at(p, i)}; };
  f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
    constexpr std::int64_t kFar = 1000000;
    const std::int64_t n = as_integer(v);
    at(p, i) = static_cast<int>(n < -kFar ? -kFar : n > kFar ? kFar : n);
    return std::string();
  };
  return f;
}

// A duration, written as whole seconds.
template <typename Locate>
Field seconds(std::string_view key, Locate at, std::string_view doc) {
  Field f = make(key, Type::seconds, "s", doc);
  f.get = [at](const StoredProfiles& p, std::size_t i) -> Value {
    return std::int64_t{std::chrono::duration_cast<std::chrono::seconds>(at(p, i)).count()};
  };
  f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
    at(p, i) = std::chrono::seconds(as_integer(v));
    return std::string();
  };
  return f;
}

template <typename Locate>
Field boolean(std::string_view key, Locate at, std::string_view doc) {
  Field f = make(key, Type::boolean, "", doc);
  f.get = [at](const StoredProfiles& p, std::size_t i) -> Value { return std::int64_t{at(p, i) ? 1 : 0}; };
  f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
    at(p, i) = as_integer(v) != 0;
    return std::string();
  };
  return f;
}

// Free text; a std::optional<std::string> member is nullable (null: none).
template <typename Locate>
Field text(std::string_view key, Locate at, std::string_view doc) {
  Field f = make(key, Type::text, "", doc);
  if constexpr (std::is_same_v<Member<Locate>, std::optional<std::string>>) {
    f.nullable = true;
    f.get = [at](const StoredProfiles& p, std::size_t i) -> Value {
      const auto& v = at(p, i);
      return v ? Value(*v) : Value();
    };
    f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
      at(p, i) = std::holds_alternative<std::monostate>(v) ? std::nullopt : std::optional<std::string>(as_text(v));
      return std::string();
    };
  } else {
    f.get = [at](const StoredProfiles& p, std::size_t i) -> Value { return at(p, i); };
    f.put = [at](StoredProfiles& p, std::size_t i, const Value& v) {
      at(p, i) = as_text(v);
      return std::string();
    };
  }
  return f;
}

// One of a few words, each standing for one value of the member (an enum, a bool, or the word
// itself): {{OperatingMode::aggressive, "aggressive"}, ...}, in the order messages list them.
template <typename Locate, typename T = Member<Locate>>
Field choice(std::string_view key, Locate at, std::vector<std::pair<T, std::string>> words, std::string_view doc) {
  Field f = make(key, Type::choice, "", doc);
  for (const auto& w : words) f.choices.push_back(w.second);
  f.get = [at, words](const StoredProfiles& p, std::size_t i) -> Value {
    if constexpr (std::is_same_v<T, std::string>) {
      return at(p, i);  // a word the list lacks is shown as it is, and refused by check_value()
    } else {
      for (const auto& [value, word] : words) {
        if (value == at(p, i)) return word;
      }
      return words.front().second;
    }
  };
  f.put = [at, words, key, list = f.choices](StoredProfiles& p, std::size_t i, const Value& v) {
    const std::string word = as_text(v);
    for (const auto& [value, w] : words) {
      if (w == word) {
        at(p, i) = value;
        return std::string();
      }
    }
    return fmt::format("{} '{}' must be {}", key, word, one_of(list));
  };
  return f;
}

// Words that stand for themselves (a std::string member): {"soc", "voltage"}.
inline std::vector<std::pair<std::string, std::string>> words(std::initializer_list<const char*> list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* w : list) out.emplace_back(w, w);
  return out;
}

// A field read and written by its own two functions (a schedule's windows, a zone's miner by name).
inline Field custom(std::string_view key, Type type, std::string_view doc,
                    std::function<Value(const StoredProfiles&, std::size_t)> get,
                    std::function<std::string(StoredProfiles&, std::size_t, const Value&)> put) {
  Field f = make(key, type, "", doc);
  f.get = std::move(get);
  f.put = std::move(put);
  return f;
}

}  // namespace shackd::schema::build

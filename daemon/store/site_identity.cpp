#include "daemon/store/site_identity.hpp"

#include <cctype>
#include <string_view>
#include <utility>

#include "daemon/store/runtime_store.hpp"
#include "daemon/text/sha256.hpp"

namespace shackd {

namespace {

// Latin letters with a diacritic, as UTF-8, and the ASCII they are written as in an id (the Latin-1
// Supplement and Polish of Latin Extended-A): "Café Ñandú" is cafe_nandu, not caf_and.
constexpr std::pair<std::string_view, std::string_view> kLatin[] = {
    {"à", "a"}, {"á", "a"}, {"â", "a"}, {"ã", "a"}, {"ä", "a"}, {"å", "a"}, {"æ", "ae"}, {"ç", "c"}, {"è", "e"},
    {"é", "e"}, {"ê", "e"}, {"ë", "e"}, {"ì", "i"}, {"í", "i"}, {"î", "i"}, {"ï", "i"}, {"ñ", "n"}, {"ò", "o"},
    {"ó", "o"}, {"ô", "o"}, {"õ", "o"}, {"ö", "o"}, {"ø", "o"}, {"ù", "u"}, {"ú", "u"}, {"û", "u"}, {"ü", "u"},
    {"ý", "y"}, {"ÿ", "y"}, {"ß", "ss"}, {"À", "a"}, {"Á", "a"}, {"Â", "a"}, {"Ã", "a"}, {"Ä", "a"}, {"Å", "a"},
    {"Æ", "ae"}, {"Ç", "c"}, {"È", "e"}, {"É", "e"}, {"Ê", "e"}, {"Ë", "e"}, {"Ì", "i"}, {"Í", "i"}, {"Î", "i"},
    {"Ï", "i"}, {"Ñ", "n"}, {"Ò", "o"}, {"Ó", "o"}, {"Ô", "o"}, {"Õ", "o"}, {"Ö", "o"}, {"Ø", "o"}, {"Ù", "u"},
    {"Ú", "u"}, {"Û", "u"}, {"Ü", "u"}, {"Ý", "y"}, {"ą", "a"}, {"ć", "c"}, {"ę", "e"}, {"ł", "l"}, {"ń", "n"},
    {"ś", "s"}, {"ź", "z"}, {"ż", "z"}, {"Ą", "a"}, {"Ć", "c"}, {"Ę", "e"}, {"Ł", "l"}, {"Ń", "n"}, {"Ś", "s"},
    {"Ź", "z"}, {"Ż", "z"},
};

}  // namespace

std::string site_id_from_name(const std::string& name) {
  std::string out;
  bool lost = false;  // a character the id cannot say (a '#', an emoji, a letter not above)
  const auto sep = [&] {
    if (!out.empty() && out.back() != '_') out += '_';
  };
  for (std::size_t i = 0; i < name.size();) {
    const auto u = static_cast<unsigned char>(name[i]);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
      ++i;
      continue;
    }
    if (u == ' ' || u == '_' || u == '-' || u == '.') {
      sep();
      ++i;
      continue;
    }
    bool found = false;
    for (const auto& [from, to] : kLatin) {
      if (std::string_view(name).substr(i, from.size()) == from) {
        out += to;
        i += from.size();
        found = true;
        break;
      }
    }
    if (found) continue;
    lost = true;
    sep();
    // Past the rest of a UTF-8 sequence (its continuation bytes).
    for (++i; i < name.size() && (static_cast<unsigned char>(name[i]) & 0xC0) == 0x80; ++i) {
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.size() > 56) out.resize(56);
  while (!out.empty() && out.back() == '_') out.pop_back();
  // What the id could not say is in a short hash of the whole name, so that "Shack #1" and
  // "Shack #2" (or two names of emoji alone) stay two sites at a central broker (issue 48: both
  // were "shack_1"... and "x").
  if (lost || out.empty()) out += (out.empty() ? "x_" : "_") + sha256_hex(name).substr(0, 6);
  return out;
}

SiteIdentity site_identity(db::Db& db, const std::string& site_name, std::int64_t unix_now) {
  auto s = db.prepare("SELECT site_id, named_from FROM site_identity WHERE singleton = 1");
  if (s.step()) return {s.text(0), s.text(1), false};
  SiteIdentity id{site_id_from_name(site_name), site_name, true};
  db.prepare("INSERT INTO site_identity (singleton, site_id, named_from, fixed_at) VALUES (1, ?1, ?2, ?3)")
      .bind(1, id.site_id)
      .bind(2, site_name)
      .bind(3, iso_utc(unix_now))
      .run();
  return id;
}

}  // namespace shackd

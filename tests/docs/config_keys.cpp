// The config's keys in docs/guide.md and config/shackd.example.yaml, from the tables the parser
// reads by (daemon/config/config_keys.cpp, daemon/site/profile_fields.cpp), so neither can drift
// from the code (issue 57):
// - the guide's key tables, each between "<!-- keys: NAME -->" and "<!-- end keys -->", are
//   made from the tables;
// - the guide's **Config.** paragraph names every top-level section the parser takes;
// - the example names every key of every table (set, or commented out), under its section.
//   config_keys --check docs/guide.md config/shackd.example.yaml   exit 1, naming what differs
//   config_keys --write docs/guide.md                                rewrites the key tables in place
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config/config_keys.hpp"
#include "daemon/site/profile_schema.hpp"

namespace {

namespace keys = shackd::config_keys;
namespace schema = shackd::schema;

std::string cell(std::string s) {
  for (std::size_t at = s.find('|'); at != std::string::npos; at = s.find('|', at + 2)) s.replace(at, 1, "\\|");
  return s;
}

std::string code(const std::string& s) { return s.empty() ? "" : "`" + s + "`"; }

std::string render(const keys::Section& s) {
  std::string out = "| key | default | range | unit | what |\n|---|---|---|---|---|\n";
  for (const auto& k : s.keys) {
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", k.key, code(k.fallback), k.range, k.unit, cell(k.doc));
  }
  return out;
}

std::string render_sections() {
  std::string out = "| section | what | keys |\n|---|---|---|\n";
  for (const auto& s : keys::sections()) {
    std::string where = s.keys.empty() ? "its own shape"
                                       : fmt::format("{}{}", s.keys.size(), s.per_id ? ", for each id" : "");
    out += fmt::format("| `{}` | {} | {} |\n", s.name, cell(std::string(s.doc)), where);
  }
  return out;
}

std::string type_words(const schema::Field& f) {
  switch (f.type) {
    case schema::Type::real: return "number";
    case schema::Type::integer: return "whole number";
    case schema::Type::seconds: return "whole seconds";
    case schema::Type::boolean: return "true or false";
    case schema::Type::text: return "text";
    case schema::Type::choice: return schema::one_of(f.choices);
  }
  return "";
}

std::string render(const schema::Entity& e) {
  const bool site = e.kind == "site";
  std::string out = fmt::format("| key | {} | type | range | unit | over MQTT | what |\n|---|---|---|---|---|---|---|\n",
                                site ? "a new database has" : "default");
  for (const auto& f : e.fields) {
    std::string fallback = f.required ? "required" : code(schema::yaml_text(f, f.fallback));
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", f.key, fallback, type_words(f), f.range.words(),
                       f.unit, f.settable ? "yes" : "", cell(std::string(f.doc)));
  }
  return out;
}

struct Table {
  std::string name;
  std::string text;
};

std::vector<Table> tables() {
  std::vector<Table> out{{"sections", render_sections()},
                         {"profiles.site", render(schema::site())},
                         {"profiles.miners", render(schema::miner())},
                         {"profiles.zones", render(schema::zone())}};
  for (const auto& s : keys::sections()) {
    if (!s.keys.empty()) out.push_back({std::string(s.name), render(s)});
  }
  return out;
}

std::string read(const char* path, bool& ok) {
  std::ifstream in(path);
  if (!in) {
    fmt::print(stderr, "{}: cannot read\n", path);
    ok = false;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The guide's paragraph that names the sections, from "**Config.**" to the blank line after it.
std::vector<std::string> sections_not_named(const std::string& guide) {
  const auto at = guide.find("**Config.**");
  const std::string para = at == std::string::npos ? "" : guide.substr(at, guide.find("\n\n", at) - at);
  std::vector<std::string> out;
  for (const auto& s : keys::sections()) {
    if (para.find("`" + std::string(s.name) + "`") == std::string::npos) out.emplace_back(s.name);
  }
  return out;
}

// Each section's block of the example: from its line at the left margin ("mqtt:", or "# metrics:"
// where the whole section is commented out) to the next section's.
std::vector<std::string> keys_not_in_example(const std::string& example) {
  std::vector<std::string> lines;
  std::istringstream in(example);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  static const std::regex top(R"(^(# ?)?([a-z_]+):)");
  std::map<std::string, std::string> block;
  std::string current;
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_search(line, m, top)) {
      for (const auto& s : keys::sections()) {
        if (m[2].str() == s.name) current = m[2].str();
      }
    }
    if (!current.empty()) block[current] += line + "\n";
  }
  std::vector<std::string> missing;
  const auto need = [&](const std::string& section, std::string_view key) {
    const std::regex named("(^|\\n)[ #-]*" + std::string(key) + ":");
    if (!std::regex_search(block[section], named)) missing.push_back(section + "." + std::string(key));
  };
  for (const auto& s : keys::sections()) {
    if (!block.count(std::string(s.name))) missing.emplace_back(s.name);
    for (const auto& k : s.keys) need(std::string(s.name), k.key);
  }
  for (const auto* e : {&schema::site(), &schema::miner(), &schema::zone()}) {
    for (const auto& f : e->fields) need("profiles", f.key);
  }
  return missing;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "--check" && argc == 4) || (mode == "--write" && argc == 3))) {
    fmt::print(stderr, "usage: config_keys --check docs/guide.md config/shackd.example.yaml\n"
                       "       config_keys --write docs/guide.md\n");
    return 64;
  }
  bool ok = true;
  std::string guide = read(argv[2], ok);
  if (!ok) return 66;
  int differ = 0;
  for (const auto& [name, want] : tables()) {
    const std::string open = fmt::format("<!-- keys: {} -->\n", name), close = "<!-- end keys -->";
    const auto at = guide.find(open);
    const auto end = at == std::string::npos ? at : guide.find(close, at);
    if (end == std::string::npos) {
      fmt::print(stderr, "{}: no \"<!-- keys: {} -->\" ... \"{}\" region\n", argv[2], name, close);
      return 1;
    }
    const std::size_t from = at + open.size();
    if (guide.compare(from, end - from, want) != 0) {
      if (mode == "--check") {
        fmt::print(stderr, "{}: the {} key table differs from the code's (build/tests/config_keys --write {})\n",
                   argv[2], name, argv[2]);
      }
      ++differ;
      guide.replace(from, end - from, want);
    }
  }
  if (mode == "--write") {
    std::ofstream(argv[2]) << guide;
    return 0;
  }
  for (const auto& s : sections_not_named(guide)) {
    fmt::print(stderr, "{}: the **Config.** paragraph does not name the section `{}`\n", argv[2], s);
    ++differ;
  }
  const std::string example = read(argv[3], ok);
  if (!ok) return 66;
  for (const auto& k : keys_not_in_example(example)) {
    fmt::print(stderr, "{}: {} is not there (every key, set or commented out with its default)\n", argv[3], k);
    ++differ;
  }
  return differ ? 1 : 0;
}

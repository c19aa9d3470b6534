#include "daemon/config/yaml_read.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>

#include "drivers/text/utf8.hpp"

namespace shackd::yaml {

namespace {

bool is_scalar(const YAML::Node& node, const std::string& path, Errors& errors, const char* expected) {
  if (node.IsScalar()) return true;
  errors.add(path, node, fmt::format("expected {}, got a {}", expected,
                                     node.IsMap() ? "map" : node.IsSequence() ? "list" : "null"));
  return false;
}

// A quoted scalar is text, whatever it looks like: "10" is not the number 10.
bool quoted(const YAML::Node& node) { return node.Tag() == "!"; }

}  // namespace

std::string where(const std::string& path, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return path;
  return fmt::format("{} (line {}:{})", path, m.line + 1, m.column + 1);
}

namespace {

// "line 3:9" of byte `offset` in `text`.
std::string line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return fmt::format("line {}:{}", line, column);
}

// The line of a second document: a "---" (YAML 1.2 §9.1.2: a marker at the start of a line, never
// inside a scalar) after content of a first one, or content after a "..." that ended the first
// (§9.1.4: a bare document may follow it); nullopt when there is one document. yaml-cpp's Load
// reads the first and drops the rest without a word.
struct SecondDocument {
  std::size_t line;
  bool after_end;  // content after a "...", not a "---"
};
std::optional<SecondDocument> second_document_line(const std::string& text) {
  bool content = false, ended = false;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++line) {
    std::size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    const std::string_view l(text.data() + i, end - i);
    const auto is_marker = [&](std::string_view m) {
      return l.substr(0, 3) == m && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    };
    const bool marker = is_marker("---");
    if (marker && content) return SecondDocument{line, false};
    const auto first = l.find_first_not_of(" \t\r");
    const bool text_line = first != std::string_view::npos && l[first] != '#' && l[0] != '%';
    if (is_marker("...")) {
      ended = content;
    } else if (!marker && text_line) {
      if (ended) return SecondDocument{line, true};
      content = true;
    }
    i = end + 1;
  }
  return std::nullopt;
}

// Every scalar, keys included, is UTF-8 (YAML 1.2 §5.2; JSON, MQTT and Home Assistant need it)
// and of a sane length: a 50 MB site name is a mistake, not a name.
//
// The walk goes through aliases (yaml-cpp hands an alias back as the node it names), so a 2 kB
// "billion laughs" (nine lists of nine aliases to the list before, nine deep: 9^9 scalars, YAML
// 1.2 §3.2.2.2 allows it) would take minutes and stall a reload on the loop. `budget` counts the
// nodes visited, aliases each time they are used: past it the config is refused, whatever it
// holds. A site's config has a few hundred nodes; kMaxConfigNodes is far above any written by hand.
struct Walk {
  Errors& errors;
  std::size_t budget = kMaxConfigNodes;
  bool over = false;
};

void check_text(const YAML::Node& node, const std::string& path, Walk& w) {
  if (w.over) return;
  if (w.budget == 0) {
    w.over = true;
    w.errors.add(path, node,
                 fmt::format("the config expands to more than {} values, aliases (*name) counted each time they are "
                             "used: refused (an alias bomb?); write the values out, or use fewer nested aliases",
                             kMaxConfigNodes));
    return;
  }
  --w.budget;
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (const auto bad = drivers::text::first_invalid_utf8(s)) {
      w.errors.add(path, node, fmt::format("not UTF-8 text (byte 0x{:02X} at byte {} of the value): save the file as UTF-8",
                                           static_cast<unsigned char>(s[*bad]), *bad + 1));
    } else if (s.size() > kMaxScalarBytes) {
      w.errors.add(path, node, fmt::format("{} bytes long: at most {}", s.size(), kMaxScalarBytes));
    } else if (const auto c = std::find_if(s.begin(), s.end(), [](char x) {
                 const auto u = static_cast<unsigned char>(x);
                 return (u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7F;
               });
               c != s.end()) {
      // A NUL ("\0" in double quotes) or another control character: no name, topic or path has
      // one, and each ends up in MQTT topics, JSON and metrics labels (issue 48: a NUL in
      // site.name reached a label).
      w.errors.add(path, node, fmt::format("a control character (0x{:02X}) at byte {} of the value: not text",
                                           static_cast<unsigned char>(*c), c - s.begin() + 1));
    }
    return;
  }
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (w.over) return;
      const std::string key = kv.first.IsScalar() ? drivers::text::clean_utf8(kv.first.Scalar(), 60) : "?";
      const std::string sub = path.empty() ? key : path + "." + key;
      check_text(kv.first, sub, w);
      check_text(kv.second, sub, w);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size() && !w.over; ++i) check_text(node[i], fmt::format("{}[{}]", path, i), w);
  }
}

}  // namespace

std::optional<YAML::Node> parse(const std::string& text, const std::string& source, Errors& errors) {
  if (text.size() > kMaxConfigBytes) {
    errors.add(fmt::format("{}: {} bytes: a config is at most {} bytes", source, text.size(), kMaxConfigBytes));
    return std::nullopt;
  }
  if (const auto second = second_document_line(text)) {
    // Silently reading the first and ignoring the rest would run a config the owner did not write.
    errors.add(second->after_end
                   ? fmt::format("{} (line {}): text after the end of the YAML document ('...' ends it): shackd would "
                                 "ignore it; remove the '...' line or what follows",
                                 source, second->line)
                   : fmt::format("{} (line {}): a second YAML document ('---'): shackd reads one; merge them or remove one",
                                 source, second->line));
    return std::nullopt;
  }
  try {
    // YAML::Load, never LoadAll: yaml-cpp 0.7's LoadAll ran for minutes and gigabytes on a
    // 1 kB input the config fuzzer found (build-fuzz/artifacts), where Load fails at once.
    YAML::Node root = YAML::Load(text);
    const std::size_t before = errors.list().size();
    Walk walk{errors};
    check_text(root, "", walk);
    if (errors.list().size() == before) {
      if (const auto bad = drivers::text::first_invalid_utf8(text)) {  // in a comment, say
        errors.add(fmt::format("{} ({}): not UTF-8 text (byte 0x{:02X}): save the file as UTF-8", source,
                               line_column(text, *bad), static_cast<unsigned char>(text[*bad])));
      }
    }
    if (errors.list().size() != before) return std::nullopt;
    return root;
  } catch (const YAML::ParserException& e) {
    errors.add(fmt::format("{} (line {}:{}): YAML syntax error: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const YAML::Exception& e) {
    errors.add(fmt::format("{}: YAML error: {}", source, e.what()));
  }
  return std::nullopt;
}

bool is_null(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

std::vector<std::pair<std::string, YAML::Node>> id_entries(const YAML::Node& node, const std::string& path,
                                                           const char* what, Errors& e) {
  static const std::regex kId(R"(^[a-z0-9_]{1,40}$)");
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (!node.IsMap()) {
    e.add(path, node, fmt::format("expected a map of {} ids", what));
    return out;
  }
  std::vector<std::string> keys;
  for (auto it = node.begin(); it != node.end(); ++it) keys.push_back(it->first.Scalar());
  const std::vector<std::string_view> allowed(keys.begin(), keys.end());
  for (auto& [id, v] : entries(node, path, allowed, e)) {
    if (!std::regex_match(id, kId)) {
      e.add(path + "." + id, v, fmt::format("a {} id is 1-40 of a-z, 0-9 and _ (it becomes part of MQTT topics)", what));
      continue;
    }
    out.emplace_back(id, v);
  }
  return out;
}

std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node, const std::string& path,
                                                        const std::vector<std::string_view>& allowed, Errors& errors) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (!node.IsMap()) {
    errors.add(path, node, "expected a map of keys");
    return out;
  }
  std::map<std::string, YAML::Node> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      errors.add(path, it->first, "a key must be a plain name");
      continue;
    }
    const std::string key = it->first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (const auto prev = seen.find(key); prev != seen.end()) {
      errors.add(key_path, it->first,
                 fmt::format("duplicate key: also at line {}; keep one", prev->second.Mark().line + 1));
      continue;
    }
    seen.emplace(key, it->first);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      const std::string_view best = nearest(key, allowed);
      errors.add(key_path, it->first,
                 best.empty() ? std::string("unknown key") : fmt::format("unknown key; did you mean {}?", best));
      continue;
    }
    out.emplace_back(key, it->second);
  }
  return out;
}

std::optional<double> real(const YAML::Node& node, const std::string& path, Errors& errors) {
  if (!is_scalar(node, path, errors, "a number")) return std::nullopt;
  const std::string& s = node.Scalar();
  static const std::regex number(R"(^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$|^[-+]?\.[0-9]+$)");
  static const std::regex leading_zero(R"(^[-+]?0[0-9])");
  if (quoted(node) || !std::regex_match(s, number)) {
    errors.add(path, node, fmt::format("expected a number, got '{}'", s));
    return std::nullopt;
  }
  if (std::regex_search(s, leading_zero)) {
    errors.add(path, node, fmt::format("'{}' has a leading zero, which YAML reads as octal: write it without", s));
    return std::nullopt;
  }
  // std::stod throws on 1e999 (out_of_range): a config value must be an error, never a throw.
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno == ERANGE || !std::isfinite(v)) {
    errors.add(path, node, fmt::format("'{}' is beyond what a number can hold", s));
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path, Errors& errors) {
  if (!is_scalar(node, path, errors, "a whole number")) return std::nullopt;
  const std::string& s = node.Scalar();
  static const std::regex whole(R"(^[-+]?(0|[1-9][0-9]{0,14})$)");
  if (quoted(node) || !std::regex_match(s, whole)) {
    static const std::regex leading_zero(R"(^[-+]?0[0-9]+$)");
    errors.add(path, node,
               std::regex_match(s, leading_zero)
                   ? fmt::format("'{}' has a leading zero, which YAML reads as octal: write it without", s)
                   : fmt::format("expected a whole number, got '{}'", s));
    return std::nullopt;
  }
  return std::stoll(s);
}

std::optional<bool> boolean(const YAML::Node& node, const std::string& path, Errors& errors) {
  if (!is_scalar(node, path, errors, "true or false")) return std::nullopt;
  const std::string& s = node.Scalar();
  if (!quoted(node) && (s == "true" || s == "false")) return s == "true";
  errors.add(path, node, fmt::format("expected true or false, got '{}'", s));
  return std::nullopt;
}

std::optional<std::string> text(const YAML::Node& node, const std::string& path, Errors& errors) {
  if (!is_scalar(node, path, errors, "text")) return std::nullopt;
  return node.Scalar();
}

}  // namespace shackd::yaml

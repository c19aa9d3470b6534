#include "daemon/metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>

namespace shackd::metrics {

namespace {

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!name_char(s[i], i == 0, colon)) return false;
  }
  return true;
}

// HELP text: ours, but made safe anyway. 0.0.4 escapes \ and newline in HELP; OpenMetrics also
// the double quote. Without quotes both read the same text.
std::string help_text(std::string_view h) {
  std::string out;
  for (const char c : h) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"') out += '\'';
    else out += c;
  }
  return out;
}

}  // namespace

Format negotiate(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos ? Format::openmetrics
                                                                              : Format::prometheus_text;
}

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) {
  return valid_name(name, false) && name.substr(0, 2) != "__";  // __ is reserved for Prometheus
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string render(const std::vector<Family>& families, Format format) {
  std::string out;
  render_families(out, families, format);
  if (format == Format::openmetrics) out += kOpenMetricsEnd;
  return out;
}

void render_families(std::string& out, const std::vector<Family>& families, Format format) {
  out.reserve(out.size() + families.size() * 160);
  for (const auto& f : families) {
    if (!valid_metric_name(f.name)) continue;
    const bool counter = f.type == Type::counter;
    const std::string sample_name = counter ? f.name + "_total" : f.name;
    const std::string& family_name = counter && format == Format::prometheus_text ? sample_name : f.name;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family_name, help_text(f.help), family_name,
                       counter ? "counter" : "gauge");
    for (const auto& s : f.samples) {
      out += sample_name;
      bool first = true;
      for (const auto& [k, v] : s.labels) {
        if (!valid_label_name(k)) continue;
        out += first ? '{' : ',';
        first = false;
        out += k;
        out += "=\"";
        out += escape_label(v);
        out += '"';
      }
      if (!first) out += '}';
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
}

}  // namespace shackd::metrics

#pragma once
// The two text formats a scraper asks for: Prometheus' text format 0.0.4 (what `promtool check
// metrics` reads, and what a scraper gets without asking) and OpenMetrics 1.0.0 (what Prometheus
// asks for first in its Accept header). They differ for us in a counter's TYPE line (the
// family's name in OpenMetrics, the sample's _total name in 0.0.4) and the closing "# EOF".
// Sources: prometheus.io/docs/instrumenting/exposition_formats/ and the OpenMetrics 1.0
// specification (github.com/OpenObservability/OpenMetrics, specification/OpenMetrics.md).
#include <string>
#include <string_view>
#include <vector>

#include "daemon/metrics/family.hpp"

namespace shackd::metrics {

enum class Format { prometheus_text, openmetrics };

inline constexpr std::string_view kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// OpenMetrics when the Accept header names it, else the 0.0.4 text format.
Format negotiate(std::string_view accept);

// A family with no samples is rendered with its HELP and TYPE alone (an alarm that is not active:
// the scraper still learns that the series exists). A metric or label name that is not valid is
// left out (it cannot be rendered valid), never passed through.
std::string render(const std::vector<Family>& families, Format format);
// The same without OpenMetrics' end line, appended to `out`: a text rendered in parts (the cycle's
// frame, then the server's own families), closed with kOpenMetricsEnd.
void render_families(std::string& out, const std::vector<Family>& families, Format format);
inline constexpr std::string_view kOpenMetricsEnd = "# EOF\n";

// A value as both formats write it: NaN, +Inf, -Inf, else the shortest text that reads back.
std::string format_value(double v);

// A label value with \, " and newline escaped (both formats escape the same three).
std::string escape_label(std::string_view v);

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace shackd::metrics

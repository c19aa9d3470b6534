#include "daemon/report/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace shackd::report {

namespace {

constexpr double kWidth = 1400, kLeft = 80, kRight = 230;  // the right margin holds labels
constexpr double kPlotW = kWidth - kLeft - kRight;
constexpr int kMaxMarks = 24;  // alarm and override lines listed; the rest counted

std::string hhmm(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

struct Axis {
  double lo, hi, top, height;
  double y(double v) const { return top + height - (v - lo) / (hi - lo) * height; }
};

class Page {
 public:
  explicit Page(const Day& d) : d_(d) {}
  double x(std::int64_t t) const {
    const double span = static_cast<double>(std::max<std::int64_t>(1, d_.end - d_.start));
    return kLeft + std::clamp(static_cast<double>(t - d_.start) / span, 0.0, 1.0) * kPlotW;
  }
  void text(double x0, double y0, const std::string& s, const char* extra = "") {
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {}>{}</text>\n", x0, y0, extra, xml_escape(s));
  }
  void line(double x1, double y1, double x2, double y2, const char* style) {
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" {}/>\n", x1, y1, x2, y2, style);
  }
  // The panel's frame, its title and the hour grid.
  void frame(double top, double height, const std::string& title) {
    out += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"#fbfbfb\" stroke=\"#bbb\"/>\n",
                       kLeft, top, kPlotW, height);
    text(kLeft, top - 6, title, "class=\"h\"");
    for (std::int64_t t = d_.start; t <= d_.end; t += 3600) {
      const double xx = x(t);
      line(xx, top, xx, top + height, "stroke=\"#e4e4e4\"");
    }
  }
  void hours(double y0) {
    for (std::int64_t t = d_.start; t < d_.end; t += 3 * 3600) text(x(t) - 14, y0, hhmm(t), "class=\"s\"");
  }
  void scale(const Axis& a, int steps, const char* unit) {
    for (int i = 0; i <= steps; ++i) {
      const double v = a.lo + (a.hi - a.lo) * i / steps;
      text(kLeft - 8, a.y(v) + 4, fmt::format("{:.{}f} {}", v, a.hi - a.lo < 20 ? 1 : 0, unit),
           "class=\"s\" text-anchor=\"end\"");
    }
  }
  std::string out;

 private:
  const Day& d_;
};

// A polyline through the minutes where `get` has a value; a gap over 5 minutes breaks it.
template <class Get>
std::string path(const Page& p, const Day& d, const Axis& a, Get get) {
  std::string s;
  std::int64_t last = 0;
  for (const auto& m : d.minutes) {
    const auto v = get(m);
    if (!v) continue;
    const bool move = s.empty() || m.t - last > 300;
    s += fmt::format("{}{:.1f},{:.1f} ", move ? "M" : "L", p.x(m.t), a.y(*v));
    last = m.t;
  }
  return s;
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // Control characters are not allowed in XML 1.0: a corrupt detail must not break the page.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

// A miner that follows the surplus: its power target as a step line across its bar, the bar's
// height its highest target of the day, from each target it took until the next, its stop or the
// end of the record; the range is labelled at the right.
void targets(Page& p, const LoadLine& l, double top, std::int64_t recorded) {
  if (l.targets.empty()) return;
  double max_w = 0, min_w = 1e9;
  for (const auto& t : l.targets) max_w = std::max(max_w, t.w), min_w = std::min(min_w, t.w);
  const auto y = [&](double w) { return top + 16 - 14 * w / max_w; };
  std::string d;
  for (std::size_t i = 0; i < l.targets.size(); ++i) {
    const auto& t = l.targets[i];
    std::int64_t until = i + 1 < l.targets.size() ? l.targets[i + 1].t : recorded;
    for (const auto& s : l.switches) {
      if (!s.on && s.t >= t.t && s.t < until) until = s.t;
    }
    if (until <= t.t) continue;
    d += fmt::format("M{:.1f},{:.1f}H{:.1f}", p.x(t.t), y(t.w), p.x(until));
  }
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#00441b\" stroke-width=\"2\"/>\n", d);
  p.text(kLeft + kPlotW + 6, top + 13,
         fmt::format("target {:.0f}-{:.0f} W, {} set{}", min_w, max_w, l.targets.size(), l.targets.size() == 1 ? "" : "s"),
         "class=\"s\" fill=\"#00441b\"");
}

std::string render_svg(const Day& d) {
  Page p(d);
  // Heights: voltage 260, power 170, a row per load (two label lines), the marks' list.
  const double v_top = 70, v_h = 260, w_top = v_top + v_h + 50, w_h = 170, l_top = w_top + w_h + 50;
  const double row_h = 76;
  const double m_top = l_top + row_h * static_cast<double>(d.loads.size()) + 40;
  const int marks = static_cast<int>(std::min<std::size_t>(d.marks.size(), kMaxMarks));
  const double height = m_top + 24 + 17 * (marks + (d.marks.size() > kMaxMarks ? 1 : 0)) + 20;

  p.out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{:.0f}\" viewBox=\"0 0 {} {:.0f}\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
      "<style>.h{{font-size:14px;font-weight:bold}} .s{{font-size:11px;fill:#555}} .t{{font-size:18px;"
      "font-weight:bold}}</style>\n"
      "<defs><pattern id=\"unconfirmed\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
      "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fdd0a2\"/>"
      "<rect width=\"3\" height=\"6\" fill=\"#e6550d\"/></pattern></defs>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, height, kWidth, height);
  p.text(kLeft, 32, fmt::format("shackd: {}, {} ({})", d.site_name.empty() ? "the site" : d.site_name, d.date, d.timezone),
         "class=\"t\"");
  if (d.minutes.empty()) p.text(kLeft, 52, "no telemetry recorded this day", "class=\"s\"");

  // Battery voltage: the minute's range as a band, its mean as a line, the thresholds dashed.
  double lo = 1e9, hi = -1e9;
  for (const auto& m : d.minutes) {
    if (m.battery_v_min) lo = std::min(lo, *m.battery_v_min);
    if (m.battery_v_max) hi = std::max(hi, *m.battery_v_max);
  }
  for (const auto& t : d.thresholds) {
    if (t.v > 0) lo = std::min(lo, t.v), hi = std::max(hi, t.v);
  }
  if (lo > hi) lo = 44, hi = 58;
  const Axis va{std::floor(lo - 0.5), std::ceil(hi + 0.5), v_top, v_h};
  p.frame(v_top, v_h, "Battery voltage (V): minute mean, and its range; dots: alarms (red), their ends (green), overrides and config changes");
  p.scale(va, 4, "V");
  const auto vmin = path(p, d, va, [](const Minute& m) { return m.battery_v_min; });
  const auto vmax = path(p, d, va, [](const Minute& m) { return m.battery_v_max; });
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\"/>\n", vmin);
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\"/>\n", vmax);
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.6\"/>\n",
                       path(p, d, va, [](const Minute& m) { return m.battery_v_avg; }));
  std::vector<double> label_y;  // thresholds close together: labels pushed apart
  for (const auto& t : d.thresholds) {
    if (t.v < va.lo || t.v > va.hi) continue;
    const double y = va.y(t.v);
    p.line(kLeft, y, kLeft + kPlotW, y, "stroke=\"#d94801\" stroke-dasharray=\"5,4\" stroke-width=\"0.8\"");
    double ly = y + 4;
    for (double used : label_y) {
      if (std::abs(used - ly) < 12) ly = used + 12;
    }
    label_y.push_back(ly);
    p.text(kLeft + kPlotW + 6, ly, fmt::format("{:.2f} V {}", t.v, t.label), "class=\"s\"");
  }
  p.hours(v_top + v_h + 16);

  // PV and load.
  double wmax = 100;
  for (const auto& m : d.minutes) wmax = std::max({wmax, m.pv_w.value_or(0), m.load_w.value_or(0)});
  const Axis wa{0, std::ceil(wmax / 500) * 500, w_top, w_h};
  p.frame(w_top, w_h, "PV and load (W), minute means");
  p.scale(wa, 4, "W");
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#f16913\" stroke-width=\"1.4\"/>\n",
                       path(p, d, wa, [](const Minute& m) { return m.pv_w; }));
  p.out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#6a51a3\" stroke-width=\"1.4\"/>\n",
                       path(p, d, wa, [](const Minute& m) { return m.load_w; }));
  p.text(kLeft + kPlotW + 6, w_top + 14, "PV", "fill=\"#f16913\"");
  p.text(kLeft + kPlotW + 6, w_top + 30, "load", "fill=\"#6a51a3\"");
  p.hours(w_top + w_h + 16);

  // Each load: on as a bar, up to the end of the record (a day still running, or a daemon that
  // stopped, is not drawn as on until midnight); each switch a tick with its time and reason.
  std::int64_t recorded = d.start;
  for (const auto& m : d.minutes) recorded = std::max(recorded, m.t + 60);
  for (const auto& l : d.loads) {
    for (const auto& s : l.switches) recorded = std::max(recorded, s.t);
    for (const auto& s : l.shadow) recorded = std::max(recorded, std::max(s.from, s.to));
    for (const auto& s : l.candidate) recorded = std::max(recorded, std::max(s.from, s.to));
  }
  recorded = std::min(recorded, d.end);
  // A shadow's day (issue 60) has no switch of its own to show: the header says what its strips are.
  const bool shadowed = std::any_of(d.loads.begin(), d.loads.end(), [](const LoadLine& l) { return !l.shadow.empty(); });
  const bool candidate = std::any_of(d.loads.begin(), d.loads.end(), [](const LoadLine& l) { return !l.candidate.empty(); });
  p.text(kLeft, l_top - 12,
         shadowed ? "Loads: on (green); a strip under a bar: shadow mode would have had it ON (blue) or OFF (orange), "
                    "the site the other way (its title: why)"
         : candidate ? "Loads: on (green), with each switch; a strip over a bar: the candidate would have had it ON (purple) "
                       "or OFF (brown)"
                     : "Loads: on (green), with the time and reason of each switch; hatched: commanded, its relay not "
                       "confirming; dark line: a miner's power target",
         "class=\"h\"");
  if (recorded < d.end) {
    // Where the record ends: a dashed line through the loads' rows, said in the right margin under
    // the header's line (the header runs to the plot's right edge; said at the line's x, it was
    // drawn over the header on a day of a few minutes).
    const double end_x = p.x(recorded);
    p.line(end_x, l_top - 4, end_x, l_top + row_h * static_cast<double>(d.loads.size()),
           "stroke=\"#999\" stroke-dasharray=\"3,3\" stroke-width=\"0.8\"");
    p.text(kLeft + kPlotW + 6, l_top + 6, "no record after " + hhmm(recorded), "class=\"s\"");
  }
  for (std::size_t i = 0; i < d.loads.size(); ++i) {
    const auto& l = d.loads[i];
    const double top = l_top + row_h * static_cast<double>(i) + 14;
    p.text(kLeft, top - 4, l.name);
    p.out += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"18\" fill=\"#f0f0f0\"/>\n", kLeft, top, kPlotW);
    bool on = l.on_at_start;
    std::int64_t since = d.start;
    const auto bar = [&](std::int64_t until) {
      if (on && until > since) {
        p.out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"18\" fill=\"#41ab5d\"/>\n",
                             p.x(since), top, std::max(0.8, p.x(until) - p.x(since)));
      }
    };
    // Three lines for the labels: each goes on the first line where it clears the one before.
    double lane_end[3] = {0, 0, 0};
    for (const auto& s : l.switches) {
      bar(s.t);
      on = s.on;
      since = s.t;
      const double xx = p.x(s.t);
      const std::string label = fmt::format("{} {} {}", hhmm(s.t), s.on ? "ON" : "OFF", s.reason);
      int lane = 0;
      while (lane < 3 && lane_end[lane] > xx) ++lane;
      if (lane == 3) lane = static_cast<int>(std::min_element(lane_end, lane_end + 3) - lane_end);
      lane_end[lane] = xx + 6.3 * static_cast<double>(label.size()) + 8;  // about 6.3 px a character at 11 px
      p.line(xx, top, xx, top + 22 + 12 * lane, "stroke=\"#333\" stroke-width=\"0.8\"");
      p.out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"s\"><title>{}</title>{}</text>\n", xx + 2,
                           top + 31 + 12 * lane, xml_escape(s.detail), xml_escape(label));
    }
    bar(recorded);
    // What its relay never confirmed: hatched over whatever was commanded, never drawn as done.
    for (const auto& [from, to] : l.unconfirmed) {
      const std::int64_t a = std::max(from, d.start), b = std::min(to == 0 ? recorded : to, recorded);
      if (b <= a) continue;
      p.out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"18\" fill=\"url(#unconfirmed)\">"
                           "<title>commanded, not confirmed by the relay</title></rect>\n",
                           p.x(a), top, std::max(0.8, p.x(b) - p.x(a)));
    }
    // Shadow mode's disagreements (issue 60): a strip under the bar, the decision's reason as its title.
    for (const auto& s : l.shadow) {
      const std::int64_t a = std::max(s.from, d.start), b = std::min(s.to == 0 ? recorded : s.to, recorded);
      if (b <= a) continue;
      p.out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"5\" fill=\"{}\"><title>{}</title></rect>\n",
                           p.x(a), top + 13, std::max(0.8, p.x(b) - p.x(a)), s.would_on ? "#2171b5" : "#e6550d",
                           xml_escape(fmt::format("{}-{} shadow: would be {}, the site had it {}: {}", hhmm(a), hhmm(b),
                                                  s.would_on ? "ON" : "OFF", s.actual_on ? "ON" : "OFF", s.reason)));
    }
    // A candidate profile's differences (issue 60, part 2): a strip over the bar.
    for (const auto& s : l.candidate) {
      const std::int64_t a = std::max(s.from, d.start), b = std::min(s.to == 0 ? recorded : s.to, recorded);
      if (b <= a) continue;
      p.out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"5\" fill=\"{}\"><title>{}</title></rect>\n",
                           p.x(a), top, std::max(0.8, p.x(b) - p.x(a)), s.would_on ? "#6a51a3" : "#8c6d31",
                           xml_escape(fmt::format("{}-{} candidate: {}, in force {}: {}", hhmm(a), hhmm(b),
                                                  s.would_on ? "ON" : "OFF", s.actual_on ? "ON" : "OFF", s.reason)));
    }
    targets(p, l, top, recorded);
    if (recorded < d.end) {
      p.out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"18\" fill=\"#ffffff\" "
                           "fill-opacity=\"0.7\"/>\n", p.x(recorded), top, p.x(d.end) - p.x(recorded));
    }
  }

  // Alarms, overrides and config changes: a mark on the time axis and a line each.
  p.text(kLeft, m_top, "Alarms, overrides and config changes", "class=\"h\"");
  for (int i = 0; i < marks; ++i) {
    const auto& m = d.marks[static_cast<std::size_t>(i)];
    // An alarm red, its end green (a relay back, charging allowed again: not a fault).
    const char* colour = m.kind == "alarm"       ? "#cb181d"
                         : m.kind == "alarm_end" ? "#238b45"
                         : m.kind == "override"  ? "#2171b5"
                                                 : "#737373";
    const std::string_view label = m.kind == "alarm_end" ? "cleared" : std::string_view(m.kind);
    p.out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", p.x(m.t),
                         v_top + v_h - 5, colour);
    p.text(kLeft, m_top + 20 + 17 * i, fmt::format("{} {}: {}", hhmm(m.t), label, m.text.substr(0, 160)),
           fmt::format("fill=\"{}\"", colour).c_str());
  }
  if (d.marks.size() > kMaxMarks) {
    p.text(kLeft, m_top + 20 + 17 * marks, fmt::format("... and {} more (shackd's events table)", d.marks.size() - kMaxMarks),
           "class=\"s\"");
  }
  if (d.marks.empty()) p.text(kLeft, m_top + 20, "none", "class=\"s\"");
  p.out += "</svg>\n";
  return p.out;
}

}  // namespace shackd::report

#include "daemon/config/miners_yaml.hpp"

#include <fmt/format.h>

#include <cmath>

namespace shackd {

namespace {
std::string kind_keys() {
  std::string s;
  for (const auto* k : drivers::miners::miner_kinds()) s += (s.empty() ? "" : ", ") + std::string(k->key);
  return s;
}
std::string target_kinds() {
  std::string s;
  for (const auto* k : drivers::miners::miner_kinds()) {
    if (k->takes_power_target) s += (s.empty() ? "" : ", ") + std::string(k->key);
  }
  return s;
}

// What parse_target reads beside rules::PowerTarget.
struct TargetExtras {
  long long rated_w = 0;
  std::chrono::seconds settle{0};
  bool raise_interval_given = false;
};

// target: {min_w, max_w, step_w, raise_interval_s, lower_interval_s, rated_w, settle_s}: the range
// from the miner's own constraints (`shackd probe --miner` prints them); the limits default to
// rules::PowerTarget's (flash wear: docs/guide.md, "Following the surplus").
std::optional<rules::PowerTarget> parse_target(const YAML::Node& node, const std::string& p, yaml::Reader& r, TargetExtras& x_out) {
  rules::PowerTarget t;
  long long min_w = 0, max_w = 0, step_w = static_cast<long long>(t.step_w);
  for (const auto& [k, x] : yaml::entries(
           node, p, {"min_w", "max_w", "step_w", "raise_interval_s", "lower_interval_s", "rated_w", "settle_s"}, r.e)) {
    const std::string q = p + "." + k;
    if (k == "min_w") r.integer(x, q, 1, 20000, min_w);
    if (k == "max_w") r.integer(x, q, 1, 20000, max_w);
    if (k == "step_w") r.integer(x, q, 1, 5000, step_w);
    // A firmware that saves each target to its flash is checked against 300 s below.
    if (k == "raise_interval_s") {
      r.secs(x, q, 60, 3600, t.raise_interval);
      x_out.raise_interval_given = true;
    }
    if (k == "lower_interval_s") r.secs(x, q, 10, 3600, t.lower_interval);
    // What the miner draws at 100 %, for a firmware whose target is a percent (Whatsminer).
    if (k == "rated_w") r.integer(x, q, 100, 20000, x_out.rated_w);
    // How long the miner has to come within a step of a target (default: its kind's).
    if (k == "settle_s") r.secs(x, q, 30, 3600, x_out.settle);
  }
  if (!node.IsMap()) return std::nullopt;
  if (!min_w || !max_w) {
    r.e.add(p, node, "min_w and max_w are required: the range of power targets the miner takes (shackd probe --miner HOST prints it)");
    return std::nullopt;
  }
  if (min_w >= max_w) {
    r.e.add(p + ".min_w", node["min_w"], fmt::format("{} must be below max_w {}", min_w, max_w));
    return std::nullopt;
  }
  if (step_w > max_w - min_w) {
    r.e.add(p + ".step_w", node["step_w"] ? node["step_w"] : node,
            fmt::format("{} is more than the whole range {}-{} W", step_w, min_w, max_w));
    return std::nullopt;
  }
  t.min_w = static_cast<double>(min_w);
  t.max_w = static_cast<double>(max_w);
  t.step_w = static_cast<double>(step_w);
  return t;
}

// The target's limits that depend on the firmware: a percent of the rated power (1 % its
// smallest step, 100 % its largest), the flash-wear limit where each target is saved, the settle
// time.
void check_target(drivers::miners::MinerConfig& m, const TargetExtras& x, const YAML::Node& node, const std::string& p,
                  yaml::Reader& r) {
  rules::PowerTarget& t = *m.target;
  const auto& kind = *m.kind;
  m.target_settle = x.settle.count() > 0 ? x.settle : std::chrono::seconds(kind.target_settle_s);
  if (kind.target_percent) {
    m.rated_w = x.rated_w > 0 ? static_cast<double>(x.rated_w) : t.max_w;
    if (t.max_w > m.rated_w) {
      r.e.add(p + ".max_w", node["max_w"] ? node["max_w"] : node,
              fmt::format("{:.0f} W is above rated_w {:.0f} W: {} takes at most 100 % of its rated power", t.max_w, m.rated_w,
                          kind.label));
    }
    const double one_pct = std::ceil(m.rated_w / 100);
    if (t.step_w < one_pct) {
      r.e.add(p + ".step_w", node["step_w"] ? node["step_w"] : node,
              fmt::format("{:.0f} W is below 1 % of rated_w {:.0f} W ({:.0f} W): {} takes whole percents", t.step_w, m.rated_w,
                          one_pct, kind.label));
    }
  } else if (x.rated_w > 0) {
    r.e.add(p + ".rated_w", node["rated_w"], fmt::format("{} takes its target in watts: rated_w is for a percent", kind.label));
  }
  if (kind.target_persists && x.raise_interval_given && t.raise_interval < std::chrono::seconds(300)) {
    r.e.add(p + ".raise_interval_s", node["raise_interval_s"],
            fmt::format("{:.0f} s is below 300 s: {} saves each target to its flash (at most 12 raises an hour)",
                        rules::to_seconds(t.raise_interval), kind.label));
  }
  // A firmware that keeps its target in memory only is raised as soon as it has followed the last
  // raise (the rules wait for that anyway), at most once a minute.
  if (!kind.target_persists && !x.raise_interval_given) t.raise_interval = std::chrono::seconds(60);
}

}  // namespace

void parse_miners(const YAML::Node& node, yaml::Reader& r, std::vector<drivers::miners::MinerConfig>& out) {
  for (const auto& [id, v] : yaml::id_entries(node, "miners", "miner", r.e)) {
    const std::string p = "miners." + id;
    drivers::miners::MinerConfig m;
    m.load_id = id;
    std::string kind;
    long long port = 0;
    long long idle_w = 0;
    TargetExtras extras;
    for (const auto& [k, x] : yaml::entries(v, p,
                                            {"kind", "host", "port", "user", "password", "idle_w", "stop_timeout_s",
                                             "boot_s", "poll_s", "timeout_ms", "target", "overheat_c", "https", "ca_file"},
                                            r.e)) {
      const std::string q = p + "." + k;
      if (k == "kind") {
        r.text(x, q, kind);
        m.kind = drivers::miners::find_miner_kind(kind);
        if (!m.kind) r.e.add(q, x, fmt::format("'{}' is not a miner firmware shackd speaks: one of {}", kind, kind_keys()));
      }
      if (k == "host") r.text(x, q, m.host);
      if (k == "port") r.integer(x, q, 1, 65535, port);
      if (k == "user") r.text(x, q, m.user);
      if (k == "password") r.text(x, q, m.password);
      if (k == "idle_w") r.integer(x, q, 1, 2000, idle_w);
      // A stop waits for the draw to fall at most this long: a miner ramps down in seconds to
      // a minute; past it the relay is cut as without an API.
      if (k == "stop_timeout_s") r.secs(x, q, 5, 600, m.stop_timeout);
      if (k == "boot_s") r.secs(x, q, 10, 1800, m.boot);
      if (k == "poll_s") r.secs(x, q, 2, 300, m.poll);
      if (k == "timeout_ms") r.ms(x, q, 200, 30000, m.timeout);
      if (k == "https") r.boolean(x, q, m.https);
      if (k == "ca_file") r.text(x, q, m.ca_file);
      if (k == "target") m.target = parse_target(x, q, r, extras);
      if (k == "overheat_c") {
        // Chips run at 60-80 °C; the firmwares' own hot limits sit near 90 °C.
        long long c = 0;
        if (r.integer(x, q, 40, 120, c)) m.overheat_c = static_cast<double>(c);
      }
    }
    if (kind.empty()) r.e.add(p, v, fmt::format("say which firmware it runs: kind: one of {}", kind_keys()));
    if (m.host.empty()) r.e.add(p, v, "host is required: the miner's address on the site's network");
    if (m.kind && m.kind->needs_password && m.password.empty()) {
      r.e.add(p, v, fmt::format("password is required for {}: {} ({})", m.kind->label, "its writes (sleep, wake) are signed with it",
                                m.kind->setup));
    }
    if (m.kind && m.target && !m.kind->takes_power_target) {
      r.e.add(p + ".target", v["target"],
              fmt::format("{} takes no power target shackd can set: remove target (it is then switched on and off), "
                          "or run a firmware that takes one: {}",
                          m.kind->label, target_kinds()));
    }
    if (m.kind && m.target && m.target->step_w < m.kind->target_step_w) {
      r.e.add(p + ".target.step_w", v["target"],
              fmt::format("{} W is below {}'s own step of {} W", m.target->step_w, m.kind->label, m.kind->target_step_w));
    }
    if (m.kind && m.target && m.kind->takes_power_target) check_target(m, extras, v["target"], p + ".target", r);
    if (m.kind && (m.https || !m.ca_file.empty()) && m.kind->framing != drivers::miners::MinerKind::Framing::http) {
      r.e.add(p + (m.https ? ".https" : ".ca_file"), v[m.https ? "https" : "ca_file"],
              fmt::format("{} is not spoken over HTTP: https and ca_file are for Braiins OS's REST API", m.kind->label));
    }
    if (!m.ca_file.empty() && !m.https) {
      r.e.add(p + ".ca_file", v["ca_file"], "is set but https is not: the certificate would not be used (https: true)");
    }
    if (m.kind) {
      // HTTPS on its own port (RFC 9110 §4.2.2: 443) unless one is given.
      m.port = port ? static_cast<int>(port) : (m.https ? 443 : m.kind->port);
      m.idle_w = idle_w ? static_cast<double>(idle_w) : m.kind->idle_w;
    }
    out.push_back(std::move(m));
  }
}

void apply_miner_targets(const std::vector<drivers::miners::MinerConfig>& miners, StoredProfiles& p) {
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    p.rules.miners[i].target.reset();
    for (const auto& mc : miners) {
      if (mc.load_id == p.miners[i].relay_id && mc.target && mc.kind && mc.kind->takes_power_target) {
        p.rules.miners[i].target = mc.target;
      }
    }
  }
}

}  // namespace shackd

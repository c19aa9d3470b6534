#include "daemon/config/miners_yaml.hpp"

#include <fmt/format.h>

namespace shackd {

namespace {
std::string kind_keys() {
  std::string s;
  for (const auto* k : drivers::miners::miner_kinds()) s += (s.empty() ? "" : ", ") + std::string(k->key);
  return s;
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
    for (const auto& [k, x] : yaml::entries(v, p,
                                            {"kind", "host", "port", "user", "password", "idle_w", "stop_timeout_s",
                                             "boot_s", "poll_s", "timeout_ms"},
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
    }
    if (kind.empty()) r.e.add(p, v, fmt::format("say which firmware it runs: kind: one of {}", kind_keys()));
    if (m.host.empty()) r.e.add(p, v, "host is required: the miner's address on the site's network");
    if (m.kind && m.kind->needs_password && m.password.empty()) {
      r.e.add(p, v, fmt::format("password is required for {}: {} ({})", m.kind->label, "its writes (sleep, wake) are signed with it",
                                m.kind->setup));
    }
    if (m.kind) {
      m.port = port ? static_cast<int>(port) : m.kind->port;
      m.idle_w = idle_w ? static_cast<double>(idle_w) : m.kind->idle_w;
    }
    out.push_back(std::move(m));
  }
}

}  // namespace shackd

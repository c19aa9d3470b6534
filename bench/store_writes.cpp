// Bytes written per hour by the runtime store with the default behaviour at a 1 Hz poll:
// telemetry aggregated per minute, a few actuations (state + event) per hour, a prune per hour.
// Simulated time: 24 hours run in about a second, so the figure includes WAL checkpoints.
// Goal (issue 3): <= 2 MB per hour. Run: build/bench/store_writes [DIR]
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "daemon/store/migrate.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/sqlite.hpp"

namespace {

std::map<std::string, long long> proc_io() {
  std::map<std::string, long long> out;
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = 0;
  while (in >> key >> value) out[key.substr(0, key.size() - 1)] = value;
  return out;
}

long long size_of(const std::string& path) {
  std::error_code ec;
  const auto s = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<long long>(s);
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "shackd-store-writes";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "shackd.db").string();
  constexpr int kHours = 24;
  constexpr std::int64_t kStart = 1795300000;

  shackd::db::Db db(path, {.create = true});
  shackd::migrate(db, shackd::embedded_migrations());
  shackd::RuntimeStore store(db);
  const auto before = proc_io();

  bool on = false;
  for (std::int64_t t = kStart; t < kStart + kHours * 3600; ++t) {
    shackd::TelemetrySample s;
    s.battery_v = 52.0 + static_cast<double>(t % 600) / 1000.0;
    s.soc_pct = 65;
    s.pv_w = 5000 + static_cast<double>(t % 97);
    s.load_w = 1850;
    s.battery_temp_c = 15;
    s.zone_temps_c = {{"Heat Room", 25.0}, {"Main Room", 18.0}};
    store.add_sample(t, s);
    if (t % 600 == 0) {  // an actuation every 10 minutes: 6 per hour, more than a calm site makes
      on = !on;
      shackd::LoadStateRow r;
      r.load_id = "miner:Dump Load S19 #1";
      r.commanded_on = on;
      r.since = shackd::iso_utc(t);
      r.relay_cycles = (t - kStart) / 600;
      store.set_load_state(r);
      shackd::Event e;
      e.at_unix_s = t;
      e.kind = "actuation";
      e.load_id = r.load_id;
      e.commanded_on = on;
      e.reason = on ? "running" : "insufficient_surplus";
      e.detail = "running: 54.57 V (limit 53.00 V)";
      e.battery_v = 54.57;
      store.add_event(e);
    }
    store.flush(t);
    if (t % 3600 == 0) store.prune(t);
  }
  store.flush(kStart + kHours * 3600, true);
  const auto after = proc_io();

  const double wchar = static_cast<double>(after.at("wchar") - before.at("wchar"));
  const double write_bytes = static_cast<double>(after.at("write_bytes") - before.at("write_bytes"));
  fmt::print("store_writes: {} simulated hours at 1 Hz, telemetry per minute, 6 actuations per hour\n", kHours);
  fmt::print("  written by write(2) (wchar):        {:8.0f} bytes/hour  ({:.3f} MB/hour)\n", wchar / kHours,
             wchar / kHours / 1e6);
  fmt::print("  sent to storage (write_bytes):      {:8.0f} bytes/hour\n", write_bytes / kHours);
  fmt::print("  database {} bytes, WAL {} bytes after {} hours\n", size_of(path), size_of(path + "-wal"), kHours);
  fmt::print("  goal: <= 2 MB/hour: {}\n", wchar / kHours <= 2e6 ? "met" : "NOT MET");
  return wchar / kHours <= 2e6 ? 0 : 1;
}

// Bytes written per hour by the runtime store at a 1 Hz poll: telemetry aggregated per minute, a
// few actuations (state + event) per hour, a prune per hour; with the cycle journal of a 2 s loop
// (a C line of a site with two voltage sources, two zones and two miners with an API, as the
// daemon writes it) and without, each written every minute (the old default) and every 5 minutes.
// Simulated time: 24 hours run in seconds, so the figure includes WAL checkpoints.
// Goal (issues 3 and 31): <= 2 MB per hour with the journal. Run: build/bench/store_writes [DIR]
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

struct Run {
  double wchar_per_h = 0, write_bytes_per_h = 0;
  long long db_bytes = 0, wal_bytes = 0;
};

// 24 simulated hours into a fresh database in `dir`.
Run run(const std::filesystem::path& dir, int every_s, bool journal) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "shackd.db").string();
  constexpr int kHours = 24;
  constexpr std::int64_t kStart = 1795300000;
  Run out;
  {
    shackd::db::Db db(path, {.create = true});
    shackd::migrate(db, shackd::embedded_migrations());
    shackd::RuntimeStore store(db);
    store.telemetry_every_s = every_s;
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
      if (journal && t % 60 == 0) {
        s.journal_header = "Z\tHeat Room\tMain Room\nV\tbattery_monitor\tgx_system\nT\tbattery_monitor\n"
                           "X\tchargers_limiting\tminer_w:Primary S21+\tminer_temp_c:Primary S21+\t"
                           "miner_temp_limit_c:Primary S21+\tminer_w:Dump Load S19 #1\tminer_temp_c:Dump Load S19 #1\t"
                           "miner_temp_limit_c:Dump Load S19 #1";
      }
      if (journal && t % 2 == 0) {
        // One cycle's C line with values that move as a site's do (about 230 bytes).
        s.journal_lines = fmt::format(
            "C\t{}\t{}\t{}\t{:.2f}@{}\t{:.1f}@{}\t{:.1f}@{}\t15.2@{}\t{:.0f}@{}\t{:.0f}@{}\t25.1@{}\t18.4@{}\t0@{}\t"
            "{:.0f}@{}\t71.5@{}\t90@{}\t{:.0f}@{}\t68@{}\t90@{}\tminer:Primary S21+=on:-\n",
            (t % 60) * 1000 + 17, (t - kStart) * 1000 + 5123, (t / 60) % 1440, 52.0 + static_cast<double>(t % 600) / 1000.0,
            t % 7 * 100, 52.1 + static_cast<double>(t % 600) / 1000.0, t % 5 * 100, -3.0 + static_cast<double>(t % 13) / 10.0,
            t % 3 * 100, t % 11 * 100, 5000 + static_cast<double>(t % 97), t % 4 * 100, 1850.0 + static_cast<double>(t % 31),
            t % 6 * 100, 3000, 4000, t % 9 * 100, 3180.0 + static_cast<double>(t % 17), t % 8 * 100, 2000, 3000,
            3050.0 + static_cast<double>(t % 23), t % 10 * 100, 5000, 6000);
      }
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
        e.detail = "running: 54.57 V (stops below 53.00 V)";
        e.battery_v = 54.57;
        store.add_event(e);
      }
      store.flush(t);
      if (t % 3600 == 0) store.prune(t);
    }
    store.flush(kStart + kHours * 3600, true);
    const auto after = proc_io();
    out.wchar_per_h = static_cast<double>(after.at("wchar") - before.at("wchar")) / kHours;
    out.write_bytes_per_h = static_cast<double>(after.at("write_bytes") - before.at("write_bytes")) / kHours;
  }
  out.db_bytes = size_of(path);
  out.wal_bytes = size_of(path + "-wal");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "shackd-store-writes";
  fmt::print("store_writes: 24 simulated hours at 1 Hz, telemetry per minute, 6 actuations per hour\n");
  fmt::print("{:<34} {:>14} {:>16} {:>12}\n", "case", "MB/hour (wchar)", "to storage MB/h", "database MB");
  bool met = true;
  for (const bool journal : {false, true}) {
    for (const int every_s : {60, 300}) {
      const Run r = run(dir, every_s, journal);
      fmt::print("{:<34} {:>14.3f} {:>16.3f} {:>12.1f}\n",
                 fmt::format("{}, written every {} s", journal ? "journal" : "no journal", every_s), r.wchar_per_h / 1e6,
                 r.write_bytes_per_h / 1e6, static_cast<double>(r.db_bytes) / 1e6);
      if (every_s == shackd::kTelemetryEverySDefault) met = met && r.wchar_per_h <= 2e6;
    }
  }
  fmt::print("goal: <= 2 MB/hour at the default ({} s), journal included: {}\n", shackd::kTelemetryEverySDefault,
             met ? "met" : "NOT MET");
  return met ? 0 : 1;
}

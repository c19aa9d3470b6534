#pragma once
// The process's own figures, read from /proc at scrape time (on the server's thread): the
// standard process_ names of Prometheus' client libraries (prometheus.io/docs/instrumenting/
// writing_clientlibs/#process-metrics), and the bytes this process had written to storage
// (/proc/self/io write_bytes: what wears an SD card, for the write-budget alert). Only files of
// the process itself: the unit's ProcSubset=pid hides /proc/stat, so the start time comes from
// the collector (SiteInfo::started_unix_s).
#include <optional>
#include <string>
#include <vector>

#include "daemon/metrics/family.hpp"

namespace shackd::metrics {

// Families for what could be read; a file that cannot be read leaves its families out.
std::vector<Family> process_families();

// Parsers, apart for the tests: the text of /proc/self/io and /proc/self/stat.
std::optional<double> io_write_bytes(const std::string& proc_io);
struct ProcStat {
  double cpu_s = 0;         // utime + stime
  double start_s = 0;       // since boot
  double rss_bytes = 0;
};
std::optional<ProcStat> parse_stat(const std::string& proc_stat, long ticks_per_s, long page_bytes);

}  // namespace shackd::metrics

#include "daemon/metrics/process.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace shackd::metrics {

namespace {

std::optional<std::string> slurp(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<double> io_write_bytes(const std::string& proc_io) {
  std::istringstream in(proc_io);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("write_bytes:", 0) != 0) continue;
    try {
      return std::stod(line.substr(12));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// proc(5): the command name is in parentheses and may hold spaces; the fields count on from the
// last ')'. utime 14, stime 15, starttime 22, rss 24 (1-based, the pid being 1).
std::optional<ProcStat> parse_stat(const std::string& proc_stat, long ticks_per_s, long page_bytes) {
  const auto close = proc_stat.rfind(')');
  if (close == std::string::npos || ticks_per_s <= 0) return std::nullopt;
  std::istringstream in(proc_stat.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string w;
  while (in >> w) f.push_back(w);
  if (f.size() < 22) return std::nullopt;
  try {
    ProcStat s;
    s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks_per_s);
    s.start_s = std::stod(f[19]) / static_cast<double>(ticks_per_s);
    s.rss_bytes = std::stod(f[21]) * static_cast<double>(page_bytes);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<Family> process_families() {
  std::vector<Family> out;
  if (const auto io = slurp("/proc/self/io")) {
    if (const auto b = io_write_bytes(*io)) {
      out.push_back(Family{"shackd_storage_written_bytes", "Bytes this process caused to be written to storage (the SD card's wear)",
                           Type::counter, {}}
                        .add(*b));
    }
  }
  if (const auto st = slurp("/proc/self/stat")) {
    if (const auto s = parse_stat(*st, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE))) {
      out.push_back(Family{"process_cpu_seconds", "User and system CPU time spent", Type::counter, {}}.add(s->cpu_s));
      out.push_back(Family{"process_resident_memory_bytes", "Resident memory size", Type::gauge, {}}.add(s->rss_bytes));
    }
  }
  return out;
}

}  // namespace shackd::metrics

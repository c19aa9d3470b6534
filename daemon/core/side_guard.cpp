#include "daemon/core/side_guard.hpp"

#include <fmt/format.h>

#include <string>

#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

void side_failed(LoopStats& stats, SideJob job, const char* what) noexcept {
  try {
    ++stats.failed[static_cast<std::size_t>(job)];
    stats.last_failure = drivers::text::clean_utf8(fmt::format("{}: {}", side_job_name(job), what), 300);
    log::limited(std::string("side job ") + side_job_name(job), log::Level::error,
                 fmt::format("{} failed, the cycle goes on: {}", side_job_name(job), drivers::text::clean_utf8(what, 300)));
  } catch (...) {
  }
}

}  // namespace shackd

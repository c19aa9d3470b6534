#include "daemon/system/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace shackd {

namespace {
constexpr int kTries = 50;              // 50 x 100 ms: 5 s
constexpr useconds_t kPauseUs = 100000;
}  // namespace

std::optional<InstanceLock> InstanceLock::take(const std::string& database_path, std::string& why) {
  const std::string path = database_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    why = fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  // A restart right after a stop or a crash may find the old process still exiting (its lock goes
  // when its files close, after its memory is torn down): wait a moment for it, bounded.
  int rc = -1, err = 0;
  for (int i = 0; i < kTries; ++i) {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
    if (rc == 0) break;
    err = errno;
    if (err != EWOULDBLOCK && err != EINTR) break;
    ::usleep(kPauseUs);
  }
  if (rc != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd);
    why = err == EWOULDBLOCK
              ? fmt::format("database {} is used by another shackd{}: stop it first (systemctl stop shackd), or give "
                            "this one its own database.path",
                            database_path, pid.empty() ? "" : " (pid " + pid + ")")
              : fmt::format("cannot lock {}: {}", path, std::strerror(err));
    return std::nullopt;
  }
  return InstanceLock(fd);
}

void InstanceLock::write_pid() const {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (fd_ < 0 || ::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid in it; only the message to a second instance is poorer.
  }
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace shackd

#pragma once
// One shackd per database: an advisory lock (flock(2)) on "<database>.lock", which holds the
// owner's pid. Two controllers on one site would switch the same relays against each other
// and, with the same client id, take each other's MQTT session. The lock goes with the process
// (a kill -9 too), so a stale lock file never blocks a restart.
#include <optional>
#include <string>
#include <utility>

namespace shackd {

class InstanceLock {
 public:
  // The lock, or why not ("... is used by another shackd (pid 1234) ...") in `why`.
  // Takes no write: the pid is written by write_pid.
  static std::optional<InstanceLock> take(const std::string& database_path, std::string& why);
  // Writes this process's pid into the lock file, for a second instance's message. It is a write
  // to the card, which a tired one holds for seconds: the daemon makes it on the database opener's
  // thread, never on the way to the first relay command (tests/e2e/slow_start.sh, issue 44).
  void write_pid() const;
  InstanceLock(InstanceLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace shackd

#pragma once
// A thread that owns the database and runs work on it in order (the recorder,
// daemon/recorder/recorder.hpp), as the side that hands it work sees it: the setting desk
// (daemon/intake/setting_desk.hpp) posts a setting's store here and never waits. Here, under both,
// so that the intake needs no part of the recorder.
#include <cstddef>
#include <functional>

namespace shackd {

namespace db {
class Db;
}
class RuntimeStore;

class DbTaskQueue {
 public:
  using Task = std::function<void(db::Db&, RuntimeStore&)>;
  virtual ~DbTaskQueue() = default;
  // Runs `t` on the database's thread, in order; false when the queue is full.
  virtual bool post_task(Task t) = 0;
  virtual std::size_t max_tasks() const = 0;  // the queue's bound
  // How long the write under way has taken; 0: none (a refusal names a slow card only then).
  virtual double writing_s() const = 0;
};

}  // namespace shackd

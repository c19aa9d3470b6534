#pragma once
// A slow SD card for in-process tests and benchmarks: a SQLite VFS (https://sqlite.org/vfs.html)
// over the default one, whose writes, syncs and truncations wait at a gate the test holds shut,
// or each take a fixed delay. Registered as the default VFS while it lives, so the daemon's own
// connection goes through it; reads pass untouched unless gate_reads() (a slow start). It records which threads wrote, so a test
// can say "the loop's thread never wrote" rather than time anything.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <stdexcept>
#include <thread>

namespace test {

class GatedVfs {
 public:
  // `bound`: the longest a write waits at a shut gate before it goes on (and is counted): a test
  // that fails must not hang. 30 s, not the 2 s it was: a test that holds the gate for 121 stepped
  // cycles took longer than 2 s of real time under ASan beside two other builds, and its write
  // went through the shut gate (safety_core, CI 2026-11-27).
  explicit GatedVfs(std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    std::lock_guard l(instance_mutex());
    if (instance()) throw std::logic_error("one GatedVfs at a time");
    real_ = sqlite3_vfs_find(nullptr);
    if (!real_) throw std::runtime_error("no default SQLite VFS");
    bound_ = bound;
    vfs_ = {};
    vfs_.iVersion = 2;
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.mxPathname = real_->mxPathname;
    vfs_.zName = "shackd-test-gate";
    vfs_.xOpen = &open;
    vfs_.xDelete = [](sqlite3_vfs*, const char* z, int sync) { return self().real_->xDelete(self().real_, z, sync); };
    vfs_.xAccess = [](sqlite3_vfs*, const char* z, int f, int* out) { return self().real_->xAccess(self().real_, z, f, out); };
    vfs_.xFullPathname = [](sqlite3_vfs*, const char* z, int n, char* out) {
      return self().real_->xFullPathname(self().real_, z, n, out);
    };
    vfs_.xDlOpen = [](sqlite3_vfs*, const char* z) { return self().real_->xDlOpen(self().real_, z); };
    vfs_.xDlError = [](sqlite3_vfs*, int n, char* z) { self().real_->xDlError(self().real_, n, z); };
    vfs_.xDlSym = [](sqlite3_vfs*, void* h, const char* z) { return self().real_->xDlSym(self().real_, h, z); };
    vfs_.xDlClose = [](sqlite3_vfs*, void* h) { self().real_->xDlClose(self().real_, h); };
    vfs_.xRandomness = [](sqlite3_vfs*, int n, char* z) { return self().real_->xRandomness(self().real_, n, z); };
    vfs_.xSleep = [](sqlite3_vfs*, int us) { return self().real_->xSleep(self().real_, us); };
    vfs_.xCurrentTime = [](sqlite3_vfs*, double* t) { return self().real_->xCurrentTime(self().real_, t); };
    vfs_.xGetLastError = [](sqlite3_vfs*, int n, char* z) { return self().real_->xGetLastError(self().real_, n, z); };
    vfs_.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* t) {
      return self().real_->xCurrentTimeInt64(self().real_, t);
    };
    instance() = this;
    if (sqlite3_vfs_register(&vfs_, 1) != SQLITE_OK) {
      instance() = nullptr;
      throw std::runtime_error("cannot register the test VFS");
    }
  }
  ~GatedVfs() {
    open_gate();
    sqlite3_vfs_register(real_, 1);
    sqlite3_vfs_unregister(&vfs_);
    std::lock_guard l(instance_mutex());
    instance() = nullptr;
  }
  GatedVfs(const GatedVfs&) = delete;
  GatedVfs& operator=(const GatedVfs&) = delete;

  void close_gate() {
    std::lock_guard l(m_);
    shut_ = true;
  }
  void open_gate() {
    {
      std::lock_guard l(m_);
      shut_ = false;
    }
    cv_.notify_all();
  }
  // Only files whose path contains `part` are slowed (several sites in one process); "": all.
  void only(std::string part) {
    std::lock_guard l(m_);
    only_ = std::move(part);
  }
  // Opens and reads of the slowed files wait at the gate too (a card that takes seconds a read, as
  // at a start: the database opened, migrated and read). Not counted as writes.
  void gate_reads(bool on) {
    std::lock_guard l(m_);
    gate_reads_ = on;
  }
  long reads() const {  // opens and reads that passed a gate for reads
    std::lock_guard l(m_);
    return reads_;
  }
  // Each write, sync or truncation takes this long (a tired card), gate or not.
  void set_delay(std::chrono::milliseconds d) {
    std::lock_guard l(m_);
    delay_ = d;
  }
  int waiting() const {  // writes waiting at the gate now
    std::lock_guard l(m_);
    return waiting_;
  }
  int timeouts() const {  // writes that waited out the bound
    std::lock_guard l(m_);
    return timeouts_;
  }
  long writes() const {
    std::lock_guard l(m_);
    return writes_;
  }
  // Writes made by thread `id` since the gate was made (or since forget_writers()).
  bool wrote_from(std::thread::id id) const {
    std::lock_guard l(m_);
    return writers_.count(id) > 0;
  }
  void forget_writers() {
    std::lock_guard l(m_);
    writers_.clear();
  }

 private:
  struct File {
    sqlite3_file base;
    bool slowed;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static GatedVfs*& instance() {
    static GatedVfs* p = nullptr;
    return p;
  }
  static std::mutex& instance_mutex() {
    static std::mutex m;
    return m;
  }
  static GatedVfs& self() { return *instance(); }
  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real(); }

  static void pass(sqlite3_file* f) {
    if (reinterpret_cast<File*>(f)->slowed) self().pass();
  }
  static void pass_read(sqlite3_file* f) {
    if (reinterpret_cast<File*>(f)->slowed) self().read_gate();
  }
  void read_gate() {  // an open or a read: held only while reads are gated, never delayed
    std::unique_lock l(m_);
    if (!gate_reads_) return;
    ++reads_;
    if (shut_) {
      ++waiting_;
      if (!cv_.wait_for(l, bound_, [&] { return !shut_; })) ++timeouts_;
      --waiting_;
    }
  }
  void pass() {
    std::unique_lock l(m_);
    ++writes_;
    writers_.insert(std::this_thread::get_id());
    const auto d = delay_;
    if (shut_) {
      ++waiting_;
      if (!cv_.wait_for(l, bound_, [&] { return !shut_; })) ++timeouts_;
      --waiting_;
    }
    l.unlock();
    if (d.count() > 0) std::this_thread::sleep_for(d);
  }

  static int open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
    auto* file = reinterpret_cast<File*>(f);
    file->base.pMethods = nullptr;
    {
      std::lock_guard l(self().m_);
      file->slowed = self().only_.empty() || (name && std::string(name).find(self().only_) != std::string::npos);
    }
    if (file->slowed) self().read_gate();  // an open, with reads gated
    const int rc = self().real_->xOpen(self().real_, name, file->real(), flags, out);
    if (rc != SQLITE_OK) return rc;
    static sqlite3_io_methods methods = make_methods(file->real()->pMethods->iVersion);
    file->base.pMethods = &methods;
    return SQLITE_OK;
  }

  static sqlite3_io_methods make_methods(int version) {
    sqlite3_io_methods m{};
    m.iVersion = std::min(version, 3);
    m.xClose = [](sqlite3_file* f) {
      const int rc = real(f)->pMethods->xClose(real(f));
      f->pMethods = nullptr;
      return rc;
    };
    m.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 at) {
      pass_read(f);
      return real(f)->pMethods->xRead(real(f), b, n, at);
    };
    m.xWrite = [](sqlite3_file* f, const void* b, int n, sqlite3_int64 at) {
      pass(f);
      return real(f)->pMethods->xWrite(real(f), b, n, at);
    };
    m.xTruncate = [](sqlite3_file* f, sqlite3_int64 n) {
      pass(f);
      return real(f)->pMethods->xTruncate(real(f), n);
    };
    m.xSync = [](sqlite3_file* f, int flags) {
      pass(f);
      return real(f)->pMethods->xSync(real(f), flags);
    };
    m.xFileSize = [](sqlite3_file* f, sqlite3_int64* n) { return real(f)->pMethods->xFileSize(real(f), n); };
    m.xLock = [](sqlite3_file* f, int k) { return real(f)->pMethods->xLock(real(f), k); };
    m.xUnlock = [](sqlite3_file* f, int k) { return real(f)->pMethods->xUnlock(real(f), k); };
    m.xCheckReservedLock = [](sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); };
    m.xFileControl = [](sqlite3_file* f, int op, void* arg) { return real(f)->pMethods->xFileControl(real(f), op, arg); };
    m.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
    m.xDeviceCharacteristics = [](sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); };
    m.xShmMap = [](sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
      return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, p);
    };
    m.xShmLock = [](sqlite3_file* f, int off, int n, int flags) { return real(f)->pMethods->xShmLock(real(f), off, n, flags); };
    m.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
    m.xShmUnmap = [](sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); };
    m.xFetch = [](sqlite3_file* f, sqlite3_int64 at, int n, void** p) { return real(f)->pMethods->xFetch(real(f), at, n, p); };
    m.xUnfetch = [](sqlite3_file* f, sqlite3_int64 at, void* p) { return real(f)->pMethods->xUnfetch(real(f), at, p); };
    return m;
  }

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  std::chrono::milliseconds bound_{};
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool shut_ = false;
  std::chrono::milliseconds delay_{0};
  std::string only_;
  int waiting_ = 0, timeouts_ = 0;
  long writes_ = 0, reads_ = 0;
  bool gate_reads_ = false;
  std::set<std::thread::id> writers_;
};

}  // namespace test

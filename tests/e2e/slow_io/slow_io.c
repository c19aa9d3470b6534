/* A tired SD card for a process-level test (tests/e2e/slow_card.sh, issue 44): preloaded into
 * shackd (LD_PRELOAD), it delays every pwrite, pwrite64, pwritev, fsync and fdatasync by
 * SHACKD_SLOW_IO_MS milliseconds while the file SHACKD_SLOW_IO_CTL exists, and counts what it
 * delayed in SHACKD_SLOW_IO_CTL.count (one line a call, for the test to read). These are the calls
 * the red team delayed with strace's fault injection (`-e inject=pwrite64,fsync,fdatasync:
 * delay_enter=...`); SQLite writes its pages and WAL with pwrite64 and syncs with fdatasync
 * (sqlite.org/src/file/src/os_unix.c, osPwrite64 and fdatasync). write(2) is left alone: that is
 * the log's pipe to journald and the sockets. Built by CMake for that test only, never installed.
 * Why a shim and not strace: strace works here, but it stops every thread at each traced call
 * under ptrace (which a container, a CI root under qemu or Yama's ptrace_scope may refuse), and
 * switching the delay on and off means attaching and detaching; the shim costs one access(2) per
 * write and is switched by a file.
 * With SHACKD_SLOW_IO_READS=1, pread and pread64 are delayed too (SQLite reads its pages with
 * them: os_unix.c, osPread/osPread64): a card slow at a start, when the database is opened and
 * read (tests/e2e/slow_start.sh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void slow(void) {
  const char* ctl = getenv("SHACKD_SLOW_IO_CTL");
  const char* ms = getenv("SHACKD_SLOW_IO_MS");
  if (!ctl || !ms || access(ctl, F_OK) != 0) return;
  long delay_ms = strtol(ms, NULL, 10);
  if (delay_ms <= 0) return;
  /* Counted before the wait: the test sees a write held while it is held. */
  char path[4096];
  size_t len = 0;
  while (ctl[len] && len < sizeof(path) - 7) {
    path[len] = ctl[len];
    ++len;
  }
  const char* tail = ".count";
  for (size_t i = 0; tail[i]; ++i) path[len++] = tail[i];
  path[len] = 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    (void)!write(fd, "1\n", 2);
    close(fd);
  }
  struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* dlsym's object pointer as a function pointer, without a cast ISO C forbids. */
static void* next(const char* name) { return dlsym(RTLD_NEXT, name); }
#define REAL(name, type)                  \
  static type real_##name;                \
  if (!real_##name) {                     \
    void* p = next(#name);                \
    memcpy(&real_##name, &p, sizeof p);   \
  }

typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void*, size_t, off64_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec*, int, off_t);
typedef int (*sync_fn)(int);

ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) {
  REAL(pwrite, pwrite_fn)
  slow();
  return real_pwrite(fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t at) {
  REAL(pwrite64, pwrite64_fn)
  slow();
  return real_pwrite64(fd, buf, n, at);
}

ssize_t pwritev(int fd, const struct iovec* v, int n, off_t at) {
  REAL(pwritev, pwritev_fn)
  slow();
  return real_pwritev(fd, v, n, at);
}

int fsync(int fd) {
  REAL(fsync, sync_fn)
  slow();
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync, sync_fn)
  slow();
  return real_fdatasync(fd);
}

typedef ssize_t (*pread_fn)(int, void*, size_t, off_t);
typedef ssize_t (*pread64_fn)(int, void*, size_t, off64_t);

static int reads_slowed(void) {
  const char* on = getenv("SHACKD_SLOW_IO_READS");
  return on && on[0] == '1';
}

ssize_t pread(int fd, void* buf, size_t n, off_t at) {
  REAL(pread, pread_fn)
  if (reads_slowed()) slow();
  return real_pread(fd, buf, n, at);
}

ssize_t pread64(int fd, void* buf, size_t n, off64_t at) {
  REAL(pread64, pread64_fn)
  if (reads_slowed()) slow();
  return real_pread64(fd, buf, n, at);
}

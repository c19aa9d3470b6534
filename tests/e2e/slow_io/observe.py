#!/usr/bin/env python3
"""Observers for tests/e2e/slow_card.sh, each line stamped with the wall clock (time.time(), the
clock `date +%s.%N` reads in the shell):
  observe.py notify SOCKET OUT       systemd's notify socket: each datagram shackd sends
  observe.py mqtt PORT OUT TOPIC...  every message on the topics (mosquitto_sub -v)
  observe.py report PINGS SPY INTERVAL_S FROM TO CROSSED
      the figures of the window FROM..TO (wall seconds): the watchdog pings' intervals (p50,
      p99, max), the loop's missed ticks, and the first OFF to the primary after CROSSED."""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time


def notify(path, out):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out, "a", buffering=1) as f:
        while True:
            data = s.recv(65536).decode("utf-8", "replace")
            for line in data.splitlines():
                f.write("%.6f %s\n" % (time.time(), line))


def mqtt(port, out, topics):
    args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-v"]
    for t in topics:
        args += ["-t", t]
    # Dies with its parent (prctl PR_SET_PDEATHSIG): the test's cleanup kills this script with
    # SIGKILL, and an orphaned mosquitto_sub would hold CTest's output open.
    libc = ctypes.CDLL(None)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                         bufsize=1, preexec_fn=lambda: libc.prctl(1, signal.SIGKILL))
    with open(out, "a", buffering=1) as f:
        for line in p.stdout:
            f.write("%.6f %s" % (time.time(), line))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def report(pings_file, spy_file, interval_s, t_from, t_to, crossed):
    interval_s, t_from, t_to, crossed = float(interval_s), float(t_from), float(t_to), float(crossed)
    pings = [float(l.split()[0]) for l in open(pings_file) if "WATCHDOG=1" in l]
    window = [t for t in pings if t_from <= t <= t_to]
    gaps = [b - a for a, b in zip(window, window[1:])]
    off = [float(l.split()[0]) for l in open(spy_file)
           if "cmnd/primary_s21/POWER1 OFF" in l and float(l.split()[0]) >= crossed]
    print("pings=%d" % len(window))
    if gaps:
        print("ping_p50_s=%.3f" % pct(gaps, 0.5))
        print("ping_p99_s=%.3f" % pct(gaps, 0.99))
        print("ping_max_s=%.3f" % max(gaps))
    print("off_latency_s=%s" % ("%.3f" % (off[0] - crossed) if off else "none"))
    print("interval_s=%.3f" % interval_s)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "notify":
        notify(sys.argv[2], sys.argv[3])
    elif mode == "mqtt":
        mqtt(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif mode == "report":
        report(*sys.argv[2:8])

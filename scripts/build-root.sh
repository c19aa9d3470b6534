#!/usr/bin/env bash
# Runs a command of this repository inside a minimal Debian root of another suite, of the host's
# architecture: the build root in which scripts/cross.sh builds that suite's packages with the
# suite's own compiler (trixie: GCC 14) and libraries. The repository is bind-mounted at its own
# path, so what the command builds lands here (build-<arch>-<suite>/).
# Usage: scripts/build-root.sh bookworm|trixie COMMAND [ARG...]   (as root: debootstrap, chroot)
# The root is made once with debootstrap (about a minute) in ${SHACKD_ROOTS:-/var/tmp/shackd-roots}
# and reused; the packages the command installs (scripts/setup.sh) stay in it.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: build-root.sh bookworm|trixie COMMAND [ARG...]}
shift
[ $# -gt 0 ] || { echo "usage: build-root.sh bookworm|trixie COMMAND [ARG...]" >&2; exit 64; }
case $suite in bookworm | trixie) ;; *) echo "build-root: unknown suite '$suite'" >&2; exit 64 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "build-root: needs root (debootstrap, mount, chroot); run it with sudo" >&2; exit 77; }
src=$(pwd)
# Each run in a mount namespace of its own. CI runs one trixie package's tests in the root while
# the next trixie package builds there: with shared mounts, the first run's exit (its lazy umount
# of the checkout's bind) took the checkout away from the second, whose commands then failed
# ("getcwd() failed"; ctest: "Current working directory cannot be established"). In a namespace
# of its own, a run's binds are its own and go when it ends.
if [[ -z ${SHACKD_BUILD_ROOT_NS:-} ]]; then
  exec env SHACKD_BUILD_ROOT_NS=1 unshare --mount --propagation private "$src/scripts/build-root.sh" "$suite" "$@"
fi
roots=${SHACKD_ROOTS:-/var/tmp/shackd-roots}
root="$roots/build-$suite-$(dpkg --print-architecture)"
scripts/setup.sh debootstrap >/dev/null

if [ ! -x "$root/usr/bin/apt-get" ]; then
  mirror=$(scripts/debian-mirror.sh)
  echo "build-root: making a minimal $suite root in $root (debootstrap from $mirror)" >&2
  rm -rf "$root.tmp"
  mkdir -p "$roots"
  debootstrap --variant=minbase "$suite" "$root.tmp" "$mirror" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; echo "build-root: debootstrap failed (above; $root.log)" >&2; exit 1; }
  rm -rf "$root" && mv "$root.tmp" "$root"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
binds=(/proc /sys /dev /dev/pts "$src")
# The compiler cache (scripts/build.sh) at its own path, so the root's builds keep theirs too.
if [[ -n ${SHACKD_CCACHE:-} ]]; then
  mkdir -p "$SHACKD_CCACHE"
  binds+=("$SHACKD_CCACHE")
fi
# The sysroots kept between runs (scripts/cross-sysroot.sh), likewise.
if [[ -n ${SHACKD_SYSROOTS:-} ]]; then
  mkdir -p "$SHACKD_SYSROOTS"
  binds+=("$SHACKD_SYSROOTS")
fi
for m in "${binds[@]}"; do
  # A bind mount left by a run that was killed before its cleanup, of a checkout deleted since,
  # makes this mount fail ("No such file or directory"): it is taken down first. A live mount (a
  # checkout that still exists) is left alone.
  if [[ $(findmnt -no FSROOT "$root$m" 2>/dev/null) == *//deleted ]]; then umount -l "$root$m"; fi
  mkdir -p "$root$m"
  mount --bind "$m" "$root$m"
  mounted+=("$root$m")
done
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM="${TERM:-dumb}" LANG=C.UTF-8 CI="${CI:-}" SHACKD_CCACHE="${SHACKD_CCACHE:-}" SHACKD_SYSROOTS="${SHACKD_SYSROOTS:-}" /bin/bash -c 'cd "$1" && shift && exec "$@"' build-root "$src" "$@"

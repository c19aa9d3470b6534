#!/usr/bin/env bash
# Prints the package's Depends, made from what the binary really links: for each library it
# NEEDs, the package that ships it and the dependency that package's shlibs file gives its users
# (what dpkg-shlibdeps does from shlibs; the suite's own versions, so a bookworm build asks for
# bookworm's libraries and a trixie build for trixie's). adduser is for the postinst.
# Usage: depends.sh [--sysroot SYSROOT] BINARY...   (every binary the package ships)
#   SYSROOT: a cross build's, made by scripts/cross-sysroot.sh (its .shackd-files and
#            .shackd-shlibs); without it (or empty), the host's dpkg database answers (a native build).
set -euo pipefail
sysroot=""
if [[ ${1:-} == --sysroot ]]; then
  sysroot=${2-}
  shift 2
fi
[ $# -gt 0 ] || { echo "usage: depends.sh [--sysroot SYSROOT] BINARY..." >&2; exit 64; }
for bin in "$@"; do
  [ -f "$bin" ] || { echo "depends.sh: no binary at $bin" >&2; exit 1; }
done

owner() {  # SONAME -> the package that ships it
  if [ -n "$sysroot" ]; then
    awk -v f="/$1" 'length($3) >= length(f) && substr($3, length($3) - length(f) + 1) == f {print $1; exit}' "$sysroot/.shackd-files"
  else
    local multiarch
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
    { dpkg -S "/usr/lib/$multiarch/$1" "/lib/$multiarch/$1" 2>/dev/null || true; } | head -1 | cut -d: -f1
  fi
}
version_of() {  # PACKAGE -> the version linked against, without its Debian revision
  local v
  if [ -n "$sysroot" ]; then
    v=$(awk -v p="$1" '$1 == p {print $2; exit}' "$sysroot/.shackd-files")
  else
    v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null | head -1)
  fi
  echo "${v%-*}"
}
shlibs_of() {  # PACKAGE -> its shlibs file
  if [ -n "$sysroot" ]; then
    echo "$sysroot/.shackd-shlibs/$1"
  else
    local f
    for f in "/var/lib/dpkg/info/$1:$(dpkg --print-architecture).shlibs" "/var/lib/dpkg/info/$1.shlibs"; do
      [ -f "$f" ] && { echo "$f"; return; }
    done
    echo "/nonexistent/$1.shlibs"
  fi
}

deps=(adduser)
for soname in $(for bin in "$@"; do readelf -d "$bin" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'; done | sort -u); do
  # libfmt.so.10 -> name libfmt, version 10 (the shlibs key; Debian Policy 8.6.4.1).
  if [[ $soname =~ ^(.+)\.so\.(.+)$ ]]; then
    name=${BASH_REMATCH[1]}
    version=${BASH_REMATCH[2]}
  else
    echo "depends.sh: $soname is not NAME.so.VERSION" >&2
    exit 1
  fi
  pkg=$(owner "$soname")
  [ -n "$pkg" ] || { echo "depends.sh: no package ships $soname (NEEDED by one of: $*)" >&2; exit 1; }
  shlibs=$(shlibs_of "$pkg")
  [ -f "$shlibs" ] || { echo "depends.sh: $pkg (ships $soname) has no shlibs file ($shlibs)" >&2; exit 1; }
  dep=$(awk -v n="$name" -v v="$version" '$1 == n && $2 == v {$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit}' "$shlibs")
  [ -n "$dep" ] || { echo "depends.sh: $shlibs has no line for $name $version" >&2; exit 1; }
  # A bare name (libstdc++6, libgcc-s1: their users normally take versions from the symbols
  # files) gets the version built against, which every package of the same suite satisfies.
  if [[ $dep != *"("* ]]; then dep="$dep (>= $(version_of "$pkg"))"; fi
  deps+=("$dep")
done
printf '%s\n' "${deps[@]}" | sort -u | paste -sd, - | sed 's/,/, /g'

#!/usr/bin/env bash
# Makes a sysroot of the target's libraries from one Debian suite's own .debs, without touching
# the host's packages or its apt configuration: apt runs with a private state, cache and sources
# list and the target architecture, downloads the .debs (`apt-get download`), and `dpkg -x`
# unpacks them. Usage: scripts/cross-sysroot.sh arm64|armhf bookworm|trixie DIR
# Besides the files, it leaves what the package is made and checked with (cmake/deb/depends.sh,
# tests/package/check_deb.sh):
#   DIR/.shackd-files     which package (and version) ships which file
#   DIR/.shackd-shlibs/   each library package's shlibs: the dependency its users take
#   DIR/.shackd-index     every package of the suite for the architecture: name, version, provides
#   DIR/.shackd-suite     the suite (the package's version says it: ~deb12, ~deb13)
# Idempotent: a sysroot made from the same suite and package list is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: cross-sysroot.sh arm64|armhf bookworm|trixie DIR"
arch=${1:?$usage}
suite=${2:?$usage}
dir=${3:?$usage}
case $arch in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "cross-sysroot: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 64 ;;
esac

# What shackd links and includes, by the names each suite gives them (trixie renamed libssl3 for
# 64-bit time_t, and moved to yaml-cpp 0.8 and fmt 10). libc, libstdc++ and libgcc come with the
# cross compiler (/usr/$triplet); their packages (`meta`) are fetched only for their shlibs and
# file lists, never unpacked into the sysroot.
case $suite in
  bookworm) libs=(libssl3 libyaml-cpp0.7 libfmt9 libcpp-httplib0.11 libmicrohttpd12 libcurl4) ;;
  trixie) libs=(libssl3t64 libyaml-cpp0.8 libfmt10 libcpp-httplib0.18 libmicrohttpd12t64 libcurl4t64) ;;
  *) echo "cross-sysroot: unknown suite '$suite' (bookworm or trixie)" >&2; exit 64 ;;
esac
packages=(
  libmodbus5 libmodbus-dev
  libmosquitto1 libmosquitto-dev
  libssl-dev libsqlite3-0 libsqlite3-dev libyaml-cpp-dev libfmt-dev
  nlohmann-json3-dev doctest-dev libcpp-httplib-dev libbrotli-dev libbrotli1 zlib1g-dev zlib1g
  libmicrohttpd-dev libcurl4-openssl-dev libcrypt-dev libcrypt1 libsystemd-dev libsystemd0 libunistring-dev "${libs[@]}"
)
meta=(libc6 libstdc++6 libgcc-s1)
stamp="v3 $arch $suite ${packages[*]} ${meta[*]}"  # v3: with the first of each Depends too
# With SHACKD_SYSROOTS set (scripts/test.sh: under /var/tmp/shackd-roots), a sysroot made from the
# same stamp within the last 7 days is copied from there (under a second, where making one takes
# a minute of downloads and fails while a mirror syncs); older ones are made again, so a week's
# security updates reach the packages CI builds.
cache=${SHACKD_SYSROOTS:+$SHACKD_SYSROOTS/$arch-$suite}
fresh() { [[ -f $1/.shackd-sysroot && $(cat "$1/.shackd-sysroot") == "$stamp" && -n $(find "$1/.shackd-sysroot" -mtime -7) ]]; }
keep() {  # a copy aside, then a rename: a run reading the cache never sees half a sysroot
  [[ -n $cache ]] || return 0
  mkdir -p "$SHACKD_SYSROOTS"
  rm -rf "$cache.tmp.$$"
  cp -a "$dir" "$cache.tmp.$$"
  rm -rf "$cache"
  mv "$cache.tmp.$$" "$cache"
}
if [ -f "$dir/.shackd-sysroot" ] && [ "$(cat "$dir/.shackd-sysroot")" = "$stamp" ]; then
  if [[ -n $cache ]] && ! fresh "$cache" && fresh "$dir"; then keep; fi
  exit 0
fi
if [[ -n $cache ]] && fresh "$cache"; then
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  cp -a "$cache" "$dir"
  echo "cross-sysroot: $dir (copied from $cache, made $(date -r "$cache/.shackd-sysroot" '+%F %R'))" >&2
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
apt_dir="$dir.apt"
rm -rf "$apt_dir"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" \
  "$apt_dir/meta" "$apt_dir/etc/sources.list.d" "$apt_dir/etc/preferences.d"
touch "$apt_dir/state/status"

# The suite's sources, on the Debian mirror the host's apt already uses.
mirror=$("$here/debian-mirror.sh")
security=${mirror%/debian}/debian-security
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
  echo "deb [signed-by=$keyring] $mirror $suite main"
  echo "deb [signed-by=$keyring] $mirror $suite-updates main"
  echo "deb [signed-by=$keyring] $security $suite-security main"
} >"$apt_dir/etc/sources.list"
apt_opts=(
  -o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status"
  -o "Dir::Cache=$apt_dir/cache" -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -qq
)
echo "cross-sysroot: downloading ${#packages[@]} $suite $arch packages from $mirror" >&2
# A mirror in the middle of a sync serves a mismatched index for a while: try again, then go on
# with the indexes that did arrive (a missing -security index means the suite's own,
# ABI-compatible, versions are linked against); a package that cannot be found still fails below.
for attempt in 1 2 3; do
  if apt-get "${apt_opts[@]}" -o Acquire::Retries=3 update; then break; fi
  if [ $attempt -eq 3 ]; then
    echo "cross-sysroot: WARNING: some $suite $arch indexes failed to download (above); using the ones that arrived" >&2
  else
    sleep 10
  fi
done
# Without the suite's own index for the architecture there is nothing to build against: say so,
# and why, rather than a page of "Unable to locate package". (Seen here, 2026-11-23: the mirror
# served trixie's armhf Packages.xz at 9,246,492 bytes where its signed InRelease says 9,246,996,
# and apt rightly refuses an index that does not match the signature.)
if ! ls "$apt_dir"/state/lists/*_dists_"${suite}"_main_binary-"${arch}"_Packages* >/dev/null 2>&1; then
  echo "cross-sysroot: no usable $suite main index for $arch from $mirror: the mirror's file does not match" \
    "its signed Release (apt's 'File has unexpected size' or 'Hash Sum mismatch' above), so nothing can be" \
    "verified to build against. Try again once the mirror has synced, or set another mirror in /etc/apt." >&2
  exit 69
fi
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}")
# The libraries those libraries link (trixie's libcrypto links zlib and zstd), until none is
# missing: each downloaded package's Depends that name a library (lib*, zlib*), apart from the
# C and C++ runtime, which the cross compiler brings.
while :; do
  have=$(for d in "$apt_dir"/debs/*.deb; do dpkg-deb -f "$d" Package; done | sort -u)
  # Asked for two fields, dpkg-deb names each ("Depends: a, b"): the names go before the split, or
  # each field's first package would be read as "Depends" and never fetched (libmicrohttpd-dev's
  # libgnutls28-dev, whose gnutls.pc its .pc requires).
  want=$(for d in "$apt_dir"/debs/*.deb; do dpkg-deb -f "$d" Pre-Depends Depends; done \
    | sed -E 's/^(Pre-)?Depends: //' | tr ',|' '\n\n' | sed -E 's/^ *([^ :(]+).*/\1/' | grep -E '^(lib|zlib)' \
    | grep -vE '^(libc6|libgcc-s1|libstdc\+\+6|libc6-dev|libstdc\+\+-.*-dev|libgcc-.*-dev|libc-dev)$' | sort -u)
  missing=$(comm -13 <(echo "$have") <(echo "$want"))
  [ -n "$missing" ] || break
  echo "cross-sysroot: and what they link: $(echo $missing)" >&2
  # shellcheck disable=SC2086
  (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download $missing)
done
(cd "$apt_dir/meta" && apt-get "${apt_opts[@]}" download "${meta[@]}")

mkdir -p "$dir/.shackd-shlibs"
for deb in "$apt_dir"/debs/*.deb "$apt_dir"/meta/*.deb; do
  case $deb in "$apt_dir"/debs/*) dpkg -x "$deb" "$dir" ;; esac
  pkg=$(dpkg-deb -f "$deb" Package)
  ver=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -c "$deb" | awk -v p="$pkg" -v v="$ver" '{print p, v, $6}' >>"$dir/.shackd-files"
  rm -rf "$apt_dir/control"
  dpkg-deb -e "$deb" "$apt_dir/control"
  if [ -f "$apt_dir/control/shlibs" ]; then cp "$apt_dir/control/shlibs" "$dir/.shackd-shlibs/$pkg"; fi
done

# The suite's index, one line per package: name, version, then what it provides.
apt-cache "${apt_opts[@]}" dumpavail | awk -f "$here/../cmake/deb/package-index.awk" | sort -u >"$dir/.shackd-index"
test -s "$dir/.shackd-index" || { echo "cross-sysroot: no $suite $arch package index arrived" >&2; exit 1; }

# Absolute symlinks (lib.so -> /usr/lib/...) would point into the host; make them relative.
while IFS= read -r link; do
  target=$(readlink "$link")
  case $target in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dir$target")" "$link" ;;
  esac
done < <(find "$dir" -type l)

test -d "$dir/usr/lib/$triplet" || { echo "cross-sysroot: no usr/lib/$triplet in $dir" >&2; exit 1; }
echo "$suite" >"$dir/.shackd-suite"
echo "$stamp" >"$dir/.shackd-sysroot"
rm -rf "$apt_dir"
keep
echo "cross-sysroot: $dir ($(du -sh "$dir" | cut -f1))" >&2

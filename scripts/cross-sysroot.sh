#!/usr/bin/env bash
# Makes a sysroot of the target's libraries from Debian 12's own .debs, without touching the
# host's packages or its apt configuration: apt runs with a private state and cache directory
# and the target architecture, downloads the .debs (`apt-get download`), and `dpkg -x` unpacks
# them. Usage: scripts/cross-sysroot.sh arm64|armhf DIR
# Idempotent: a sysroot made from the same package list is kept.
set -euo pipefail
arch=${1:?usage: cross-sysroot.sh arm64|armhf DIR}
dir=${2:?usage: cross-sysroot.sh arm64|armhf DIR}
case $arch in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "cross-sysroot: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 64 ;;
esac

# What shackd links and includes. libc, libstdc++ and libgcc come with the cross compiler
# (/usr/$triplet); everything else the binary needs is here, runtime and -dev package alike.
packages=(
  libmodbus5 libmodbus-dev
  libpaho-mqtt1.3 libpaho-mqtt-dev libpaho-mqttpp3-1 libpaho-mqttpp-dev
  libssl3 libssl-dev
  libsqlite3-0 libsqlite3-dev
  libyaml-cpp0.7 libyaml-cpp-dev
  libfmt9 libfmt-dev
  nlohmann-json3-dev doctest-dev
)
stamp="$arch ${packages[*]}"
if [ -f "$dir/.shackd-sysroot" ] && [ "$(cat "$dir/.shackd-sysroot")" = "$stamp" ]; then
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
apt_dir="$dir.apt"
rm -rf "$apt_dir"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
touch "$apt_dir/state/status"
apt_opts=(
  -o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status"
  -o "Dir::Cache=$apt_dir/cache" -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -qq
)
echo "cross-sysroot: downloading ${#packages[@]} $arch packages" >&2
# A mirror in the middle of a sync serves a mismatched index for a while: try again, then go on
# with the indexes that did arrive (a missing bookworm-security index means bookworm's own,
# ABI-compatible, versions are linked against); a package that cannot be found still fails below.
for attempt in 1 2 3; do
  if apt-get "${apt_opts[@]}" -o Acquire::Retries=3 update; then break; fi
  if [ $attempt -eq 3 ]; then
    echo "cross-sysroot: WARNING: some $arch indexes failed to download (above); using the ones that arrived" >&2
  else
    sleep 10
  fi
done
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}")

for deb in "$apt_dir"/debs/*.deb; do
  dpkg -x "$deb" "$dir"
  # Which package holds which file, for the package's Depends check (tests/package/check_deb.sh).
  pkg=$(dpkg-deb -f "$deb" Package)
  ver=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -c "$deb" | awk -v p="$pkg" -v v="$ver" '{print p, v, $6}' >>"$dir/.shackd-files"
done

# Absolute symlinks (lib.so -> /usr/lib/...) would point into the host; make them relative.
while IFS= read -r link; do
  target=$(readlink "$link")
  case $target in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dir$target")" "$link" ;;
  esac
done < <(find "$dir" -type l)

test -d "$dir/usr/lib/$triplet" || { echo "cross-sysroot: no usr/lib/$triplet in $dir" >&2; exit 1; }
echo "$stamp" >"$dir/.shackd-sysroot"
rm -rf "$apt_dir"
echo "cross-sysroot: $dir ($(du -sh "$dir" | cut -f1))" >&2

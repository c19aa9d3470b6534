#!/usr/bin/env bash
# Installs a shackd .deb into a minimal Debian root of the Pi's own architecture, under qemu-user,
# as a site owner would on a fresh Raspberry Pi OS, then upgrades it; checks inside that root:
#   - apt resolves and installs the package's Depends from the suite's own archive;
#   - the shackd system user, /var/lib/shackd (shackd:shackd 0750), the conffile and its mode;
#   - `shackd --version`, `shackd check` on the installed config pointed at loopback, `demo-day`;
#   - the upgrade: an older version installed, its config edited and its database made at an
#     older schema; the new version installed over it keeps both untouched, and the next start
#     migrates the database, with a backup beside it, keeping the data;
#   - the owner's user `pi` in the shackd group (the guide's step) runs status, report, profiles
#     export and the backup, with the service running and stopped; a user outside is told why.
# Usage: tests/package/pi_root.sh DEB bookworm|trixie   (root: debootstrap, chroot, binfmt_misc)
#        tests/package/pi_root.sh --base bookworm|trixie ARCH   only makes the base root (CI makes
#                                  it while the native trees build: scripts/test.sh)
# The base root is made once (debootstrap --foreign, its second stage under qemu: minutes) in
# ${SHACKD_ROOTS:-/var/tmp/shackd-roots}/pi-<suite>-<arch>; each run works on a fresh copy.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
base_only=""
if [[ ${1:-} == --base ]]; then
  base_only=1
  suite=${2:?usage: pi_root.sh --base bookworm|trixie ARCH}
  arch=${3:?usage: pi_root.sh --base bookworm|trixie ARCH}
else
  deb=$(realpath "${1:?usage: pi_root.sh DEB bookworm|trixie}")
  suite=${2:?usage: pi_root.sh DEB bookworm|trixie}
  arch=$(dpkg-deb -f "$deb" Architecture)
  version=$(dpkg-deb -f "$deb" Version)
fi
roots=${SHACKD_ROOTS:-/var/tmp/shackd-roots}
base="$roots/pi-$suite-$arch"
root="$roots/pi-$suite-$arch.test"
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
[ "$(id -u)" -eq 0 ] || { echo "pi_root: needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 77; }

"$src/scripts/setup.sh" debootstrap qemu-user-static >/dev/null
if ! "$src/scripts/binfmt.sh" "$arch"; then
  echo "pi_root: this kernel will not run $arch programs through qemu (binfmt_misc); the package" >&2
  echo "pi_root: cannot be installed into an $arch root here. Not proven: the install." >&2
  exit 1
fi

mirror=$("$src/scripts/debian-mirror.sh")
if [ ! -x "$base/usr/bin/apt-get" ]; then
  echo "pi_root: making a minimal $suite $arch root in $base (debootstrap --foreign, then under qemu)"
  if [ ! -x "$base.tmp/debootstrap/debootstrap" ]; then
    rm -rf "$base.tmp"
    mkdir -p "$roots"
    debootstrap --foreign --arch="$arch" --variant=minbase "$suite" "$base.tmp" "$mirror" >"$base.log" 2>&1 \
      || { tail -20 "$base.log"; echo "pi_root: debootstrap failed ($base.log)"; exit 1; }
  fi
  chroot "$base.tmp" /debootstrap/debootstrap --second-stage >>"$base.log" 2>&1 \
    || { tail -20 "$base.log"; echo "pi_root: debootstrap's second stage failed ($base.log)"; exit 1; }
  rm -rf "$base" && mv "$base.tmp" "$base"
fi
[[ -z $base_only ]] || exit 0

rm -rf "$root"
cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  [ -n "${KEEP_ROOT:-}" ] || rm -rf "$root"
}
trap cleanup EXIT
for m in /proc /sys /dev /dev/pts; do
  mount --bind "$m" "$root$m" && mounted+=("$root$m")
done
in_root() {  # COMMAND...: run inside the Pi's root, as on the Pi
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
echo "pi_root: $(in_root uname -m) root of Debian $(cat "$root/etc/debian_version"); installing $(basename "$deb")"

# The older version: this package with version 0.1.0-0 (the binary is the same; what is proven is
# dpkg's upgrade path with its conffile and maintainer scripts, and the database's migration).
old=$(mktemp -d)
dpkg-deb -R "$deb" "$old/pkg"
sed -i "s/^Version: .*/Version: 0.1.0-0~$suite/" "$old/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -b "$old/pkg" "$root/tmp/shackd-old.deb" >/dev/null
cp "$deb" "$root/tmp/shackd-new.deb"
rm -rf "$old"

# The archive a Pi's apt has: Raspberry Pi OS lists the suite, its -updates and its -security
# (debootstrap writes the first only). Without -security, bookworm's package does not install:
# it was built against the security release of libssl3 (its shlibs asks >= 3.0.22), as Debian's
# own packages are, and the point release's libssl3 is older.
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
in_root apt-get update -qq || fail "apt-get update in the $suite root"
# sqlite3 is only for this test's checks of the database.
in_root apt-get install -y -qq --no-install-recommends /tmp/shackd-old.deb sqlite3 >"$root/tmp/install.log" 2>&1 \
  || { cat "$root/tmp/install.log"; fail "apt install of the package"; exit 1; }
grep -E "^shackd:|Setting up shackd" "$root/tmp/install.log"

check_installed() {  # WANT_VERSION
  local v
  v=$(in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' shackd)
  [ "$v" = "$1 ii " ] || fail "dpkg says '$v', want '$1 ii '"
  in_root getent passwd shackd | grep -q '^shackd:x:[0-9]*:[0-9]*:.*:/var/lib/shackd:/usr/sbin/nologin$' \
    || fail "no shackd system user with home /var/lib/shackd: $(in_root getent passwd shackd)"
  [ "$(in_root stat -c '%U:%G %a' /var/lib/shackd)" = "shackd:shackd 750" ] \
    || fail "/var/lib/shackd is $(in_root stat -c '%U:%G %a' /var/lib/shackd), want shackd:shackd 750"
  [ "$(in_root stat -c '%U:%G %a' /etc/shackd/shackd.yaml)" = "root:shackd 640" ] \
    || fail "/etc/shackd/shackd.yaml is $(in_root stat -c '%U:%G %a' /etc/shackd/shackd.yaml), want root:shackd 640"
  in_root dpkg-query -W -f='${Conffiles}\n' shackd | grep -q '/etc/shackd/shackd.yaml' \
    || fail "/etc/shackd/shackd.yaml is not a conffile"
}
check_installed "0.1.0-0~$suite"
echo "pi_root: $(in_root shackd --version)"
in_root shackd --version | grep -q "^shackd " || fail "shackd --version"

# The owner's edit: the devices on loopback (nothing listens: check validates, it does not poll),
# and a line of their own.
sed -i -E 's/^(\s+host:) 192\.168\.1\.[0-9]+/\1 127.0.0.1/; s/^(\s+port:) 502$/\1 1502/' "$root/etc/shackd/shackd.yaml"
echo "# edited on the Pi: keep me" >>"$root/etc/shackd/shackd.yaml"
# (A commented example, `#   primary_s21: {kind: luxos, host: 192.168.1.60}`, is not config.)
grep -v '^[[:space:]]*#' "$root/etc/shackd/shackd.yaml" | grep -q "192.168.1." &&
  fail "an example address is left: $(grep -n '192.168.1.' "$root/etc/shackd/shackd.yaml" | grep -v '^[0-9]*:[[:space:]]*#')"
in_root runuser -u shackd -- shackd check --config /etc/shackd/shackd.yaml >"$root/tmp/check.log" 2>&1 \
  || { cat "$root/tmp/check.log"; fail "shackd check on the installed config"; }
tail -3 "$root/tmp/check.log"
in_root shackd demo-day >"$root/tmp/demo.log" 2>&1 || { tail "$root/tmp/demo.log"; fail "shackd demo-day"; }
grep -q "ON" "$root/tmp/demo.log" || fail "demo-day printed no switch: $(tail -3 "$root/tmp/demo.log")"
echo "pi_root: demo-day printed $(wc -l <"$root/tmp/demo.log") lines"

# The old version's database: made at an older schema (all but the last two migrations), as the
# shackd user, as the old service would have left it.
mkdir -p "$root/tmp/old-schema"
ls "$src"/schema/*.sql | head -n -2 | xargs -I{} cp {} "$root/tmp/old-schema/"
old_schema=$(ls "$root/tmp/old-schema" | wc -l)
# (UMask 0077: the old unit's, so the old database is 0600, as on a Pi that ran it.)
in_root sh -c 'umask 0077; exec runuser -u shackd -- shackd migrate --db /var/lib/shackd/shackd.db --schema-dir /tmp/old-schema' >/dev/null \
  || fail "shackd migrate --schema-dir (the old database)"
profiles_before=$(in_root sqlite3 /var/lib/shackd/shackd.db "SELECT count(*) FROM miner_profiles")
[ "$(in_root sqlite3 /var/lib/shackd/shackd.db 'PRAGMA user_version')" = "$old_schema" ] \
  || fail "the old database is not at schema $old_schema"
config_sum=$(md5sum <"$root/etc/shackd/shackd.yaml")

echo "pi_root: upgrading 0.1.0-0~$suite -> $version"
in_root apt-get install -y -qq /tmp/shackd-new.deb >"$root/tmp/upgrade.log" 2>&1 \
  || { cat "$root/tmp/upgrade.log"; fail "apt install of the new version over the old"; }
check_installed "$version"
[ "$(md5sum <"$root/etc/shackd/shackd.yaml")" = "$config_sum" ] || fail "the upgrade changed the edited config"
[ -e "$root/etc/shackd/shackd.yaml.dpkg-new" ] && fail "the upgrade left shackd.yaml.dpkg-new"
[ "$(in_root sqlite3 /var/lib/shackd/shackd.db 'PRAGMA user_version')" = "$old_schema" ] \
  || fail "the upgrade itself touched the database (it is the service's to migrate)"
[ "$(in_root stat -c '%U:%G %a' /var/lib/shackd/shackd.db)" = "shackd:shackd 640" ] \
  || fail "after the upgrade the old database is $(in_root stat -c '%U:%G %a' /var/lib/shackd/shackd.db), want 640 (postinst opens it to the group)"

# A broker for it, on the host's loopback (the root shares the host's network): the config's uri
# pointed at it, so that `status` below reads what the service publishes.
broker_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$broker_port" >"$root/tmp/mosquitto.conf"
[ "$(id -u)" -eq 0 ] && echo "user root" >>"$root/tmp/mosquitto.conf"
/usr/sbin/mosquitto -c "$root/tmp/mosquitto.conf" >"$root/tmp/mosquitto.log" 2>&1 &
broker_pid=$!
sed -i -E "s|^(\s+uri:) tcp://127.0.0.1:1883|\1 tcp://127.0.0.1:$broker_port|" "$root/etc/shackd/shackd.yaml"

# The next start, as the unit starts it (User=shackd, the unit's UMask). Nothing answers on the
# devices' loopback ports; it runs on with missing readings until stopped.
umask_unit=$(sed -n 's/^UMask=//p' "$root/usr/lib/systemd/system/shackd.service")
[ -n "$umask_unit" ] || fail "the unit sets no UMask"
in_root sh -c "umask $umask_unit; exec runuser -u shackd -- timeout -s TERM 120 shackd run --config /etc/shackd/shackd.yaml" \
  >"$root/tmp/run.log" 2>&1 &
run_pid=$!
for ((i = 0; i < 600; i++)); do grep -q "first decision" "$root/tmp/run.log" && break; sleep 0.1; done
grep -q "first decision" "$root/tmp/run.log" || { tail "$root/tmp/run.log"; fail "shackd run made no first decision in 60 s"; }
grep -E "migrated|backup" "$root/tmp/run.log"

# The owner's own user, as the guide sets it up ("Install on a Pi": sudo adduser pi shackd): the
# everyday commands work without sudo, while the service runs and after it stopped.
in_root useradd -m -s /bin/bash pi || fail "useradd pi"
in_root adduser pi shackd >/dev/null || fail "adduser pi shackd (the guide's line)"
as_pi() { in_root runuser -u pi -- sh -c "cd /home/pi && $1"; }
everyday() {  # WHEN
  local today
  today=$(date +%F)
  as_pi "shackd status" >"$root/tmp/status.log" 2>&1 || { cat "$root/tmp/status.log"; fail "pi: shackd status ($1)"; }
  grep -q "^load " "$root/tmp/status.log" || fail "pi: shackd status printed no loads ($1): $(head -3 "$root/tmp/status.log")"
  as_pi "shackd report --day $today --out /home/pi/day.svg" >"$root/tmp/report.log" 2>&1 \
    || { cat "$root/tmp/report.log"; fail "pi: shackd report ($1)"; }
  grep -q "<svg" "$root/home/pi/day.svg" 2>/dev/null || fail "pi: the report is no SVG ($1)"
  as_pi "shackd profiles export --config /etc/shackd/shackd.yaml >/home/pi/profiles.yaml" 2>"$root/tmp/export.log" \
    || { cat "$root/tmp/export.log"; fail "pi: shackd profiles export ($1)"; }
  grep -q "^profiles:" "$root/home/pi/profiles.yaml" || fail "pi: the export has no profiles ($1)"
  rm -f "$root/home/pi/backup.db"
  as_pi "sqlite3 /var/lib/shackd/shackd.db \".backup '/home/pi/backup.db'\"" >"$root/tmp/backup.log" 2>&1 \
    || { cat "$root/tmp/backup.log"; fail "pi: the guide's backup ($1)"; }
  [ "$(in_root sqlite3 /home/pi/backup.db 'SELECT count(*) FROM miner_profiles')" = "$profiles_before" ] \
    || fail "pi: the backup lacks the profiles ($1)"
  echo "pi_root: as pi ($1): status, report, profiles export and the backup work"
}
everyday "the service running"
[ "$(in_root stat -c '%U:%G %a' /var/lib/shackd/shackd.db)" = "shackd:shackd 640" ] \
  || fail "the database is $(in_root stat -c '%U:%G %a' /var/lib/shackd/shackd.db), want shackd:shackd 640"
[ "$(in_root stat -c '%a' /var/lib/shackd/shackd.db-shm)" = "640" ] || fail "the -shm is not 640"
# A user outside the group is told why and what to do.
in_root useradd -M guest || fail "useradd guest"
in_root runuser -u guest -- shackd status >"$root/tmp/guest.log" 2>&1
grep -q "permission denied.*not in the group shackd.*sudo adduser guest shackd" "$root/tmp/guest.log" \
  || fail "guest: no word on the group: $(cat "$root/tmp/guest.log")"
# Stopped as systemd would: SIGTERM to shackd itself (the one in this root, not any on the host).
for p in $(pgrep -f "shackd run --config /etc/shackd/shackd.yaml"); do
  [ "$(readlink "/proc/$p/root")" = "$root" ] && kill -TERM "$p"
done
wait "$run_pid" 2>/dev/null
everyday "the service stopped"
kill "$broker_pid" 2>/dev/null
latest=$(ls "$src"/schema/*.sql | wc -l)
[ "$(in_root sqlite3 /var/lib/shackd/shackd.db 'PRAGMA user_version')" = "$latest" ] \
  || fail "the database is not at schema $latest after the start: $(grep -i database "$root/tmp/run.log")"
ls "$root"/var/lib/shackd/shackd.db.bak-*-v"$old_schema" >/dev/null 2>&1 \
  || fail "no backup of the schema-$old_schema database beside it: $(ls "$root/var/lib/shackd")"
[ "$(in_root sqlite3 /var/lib/shackd/shackd.db 'SELECT count(*) FROM miner_profiles')" = "$profiles_before" ] \
  || fail "the migration lost miner profiles"
[ "$(in_root sqlite3 /var/lib/shackd/shackd.db 'PRAGMA integrity_check')" = "ok" ] || fail "integrity_check"

[ $failed -eq 0 ] && echo "ok: $(basename "$deb") installs, runs and upgrades in a $suite $arch root"
exit $((failed > 0))

#!/usr/bin/env bash
# The source package built the Debian way, in a clean root of the suite (issue 31): the tree as
# committed (and as edited), `apt-get build-dep ./`, `dpkg-buildpackage -b -us -uc`, lintian with
# no errors and no warnings; then the package installs there, its programs run, and it purges.
# Usage (root: debootstrap, chroot): tests/package/source_package.sh bookworm|trixie
#   It stages the tree in build/srcpkg-<suite>/ and runs the rest in scripts/build-root.sh's root.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
if [[ ${1:-} == --inside ]]; then
  stage=${2:?}
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian >/dev/null
  cd "$stage/shackd"
  echo "source_package: apt-get build-dep ./ ($(. /etc/os-release && echo "$PRETTY_NAME"))"
  apt-get build-dep -y -qq ./ >"$stage/build-dep.log" 2>&1 || { tail -20 "$stage/build-dep.log"; exit 1; }
  echo "source_package: dpkg-buildpackage -b -us -uc"
  # CI's compiler cache (scripts/build.sh), when the root has ccache: CMake takes the launcher
  # from the environment. The package's own rules stay as a user runs them.
  if [[ -n ${SHACKD_CCACHE:-} ]] && command -v ccache >/dev/null; then
    export CCACHE_DIR=$SHACKD_CCACHE CCACHE_BASEDIR=$stage CCACHE_NOHASHDIR=1 CMAKE_CXX_COMPILER_LAUNCHER=ccache
  fi
  # noautodbgsym: no -dbgsym package, so debian/rules compiles line tables, not full -g.
  DEB_BUILD_OPTIONS="parallel=$(nproc) noautodbgsym" dpkg-buildpackage -b -us -uc >"$stage/build.log" 2>&1 ||
    { tail -30 "$stage/build.log"; echo "FAIL: dpkg-buildpackage"; exit 1; }
  deb=$(ls "$stage"/shackd_*.deb)
  echo "source_package: built $(basename "$deb"); Depends: $(dpkg-deb -f "$deb" Depends)"
  lintian --fail-on error,warning -I "$deb" || { echo "FAIL: lintian reports errors or warnings (above)"; exit 1; }
  apt-get install -y -qq "$deb" >"$stage/install.log" 2>&1 || { cat "$stage/install.log"; exit 1; }
  failed=0
  fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
  # (Each output whole before grep: grep -q stops reading, and under pipefail the writer's SIGPIPE
  # would fail the check.)
  grep -q "^shackd " <<<"$(shackd --version)" || fail "shackd --version"
  grep -q -- "--site-from" <<<"$(shackd-sim --help)" || fail "shackd-sim --help"
  [ "$(stat -c '%U:%G %a' /etc/shackd/shackd.yaml)" = "root:shackd 640" ] || fail "/etc/shackd/shackd.yaml: $(stat -c '%U:%G %a' /etc/shackd/shackd.yaml)"
  [ "$(stat -c '%U:%G %a' /var/lib/shackd)" = "shackd:shackd 750" ] || fail "/var/lib/shackd: $(stat -c '%U:%G %a' /var/lib/shackd)"
  dpkg-query -W -f='${Conffiles}\n' shackd | grep -q /etc/shackd/shackd.yaml || fail "the config is no conffile"
  [ -f /usr/lib/systemd/system/shackd.service ] || [ -f /lib/systemd/system/shackd.service ] || fail "no unit"
  runuser -u shackd -- shackd check --config /etc/shackd/shackd.yaml >/dev/null || fail "shackd check as the shackd user"
  grep -q "ON" <<<"$(shackd demo-day 2>&1)" || fail "shackd demo-day switched nothing"
  apt-get purge -y -qq shackd >/dev/null || fail "apt-get purge shackd"
  [ ! -e /var/lib/shackd ] || fail "the purge left /var/lib/shackd"
  # Debian keeps a package's system user after a purge (Policy 9.2.1 leaves it to the admin), but
  # this root is CI's own and the doc-check runs in it next: with a user 'shackd' there, `shackd
  # check` asks that user to be able to write the docs' state directory (its --as default), which
  # the doc-check's stand-in Pi root does not give it. The root is left as the package found it.
  if getent passwd shackd >/dev/null; then userdel shackd || fail "userdel shackd"; fi
  if getent group shackd >/dev/null; then groupdel shackd || fail "groupdel shackd"; fi
  [ $failed -eq 0 ] && echo "ok: $(basename "$deb") builds with dpkg-buildpackage, is lintian clean, installs, runs and purges"
  exit $((failed > 0))
fi

suite=${1:?usage: source_package.sh bookworm|trixie}
stage=$src/build/srcpkg-$suite
rm -rf "$stage"
mkdir -p "$stage/shackd"
# The tree's own files, committed or not, without build trees or anything git ignores.
(cd "$src" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$stage/shackd"
exec "$src/scripts/build-root.sh" "$suite" tests/package/source_package.sh --inside "$stage"

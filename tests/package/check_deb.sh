#!/usr/bin/env bash
# Builds the .deb from a build tree with CPack and checks what a site owner installs:
# the files and where they go, the conffile, the maintainer scripts, a stripped binary for the
# right architecture, a Depends entry for every library the binary needs, and lintian.
# Usage: check_deb.sh BUILD_DIR SOURCE_DIR DEB_ARCH [SYSROOT]
set -uo pipefail
build=${1:?usage: check_deb.sh BUILD_DIR SOURCE_DIR DEB_ARCH [SYSROOT]}
src=${2:?}
arch=${3:?}
sysroot=${4:-}
for tool in cpack dpkg-deb lintian readelf; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; exit 1; }
deb=$(ls "$work"/out/shackd_*_"$arch".deb 2>/dev/null | head -1)
[ -n "$deb" ] || { ls "$work/out"; fail "no shackd_*_$arch.deb"; exit 1; }
echo "package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "Architecture is $(dpkg-deb -f "$deb" Architecture), want $arch"

dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' >"$work/contents"
has() {  # MODE-PREFIX PATH
  grep -q "^$1[^ ]* root/root \./$2\$" "$work/contents" || fail "package lacks $2 (mode $1, root/root): $(grep " \./$2\$" "$work/contents")"
}
has -rwxr-xr-x usr/bin/shackd
has -rwxr-xr-x usr/bin/shackd-sim
has -rw-r--r-- usr/share/man/man1/shackd-sim.1.gz
has -rw-r--r-- usr/lib/systemd/system/shackd.service
has -rw-r--r-- etc/shackd/shackd.yaml
has -rw-r--r-- usr/share/doc/shackd/copyright
has -rw-r--r-- usr/share/doc/shackd/guide.md
has -rw-r--r-- usr/share/doc/shackd/examples/shackd-uplink.conf   # the guide copies it from here (Many sites)
has -rw-r--r-- usr/share/doc/shackd/examples/shackd-rules.yml
has -rw-r--r-- usr/share/doc/shackd/examples/shackd-fleet.json   # the guide's Grafana dashboard (Many sites)
has -rw-r--r-- usr/share/doc/shackd/changelog.Debian.gz
has -rw-r--r-- usr/share/man/man8/shackd.8.gz
has drwxr-xr-x var/lib/shackd/
for sql in "$src"/schema/*.sql; do has -rw-r--r-- "usr/share/shackd/schema/$(basename "$sql")"; done

dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
cmp -s "$src/config/shackd.example.yaml" "$work/root/etc/shackd/shackd.yaml" || fail "/etc/shackd/shackd.yaml is not config/shackd.example.yaml"
cmp -s "$src/systemd/shackd.service" "$work/root/usr/lib/systemd/system/shackd.service" || fail "the unit differs from systemd/shackd.service"
for sql in "$src"/schema/*.sql; do
  cmp -s "$sql" "$work/root/usr/share/shackd/schema/$(basename "$sql")" || fail "schema $(basename "$sql") differs"
done
grep -qx /etc/shackd/shackd.yaml "$work/control/conffiles" || fail "/etc/shackd/shackd.yaml is not a conffile"
grep -q 'adduser --system --group' "$work/control/postinst" || fail "postinst does not create the shackd system user"
grep -q 'chown shackd:shackd /var/lib/shackd' "$work/control/postinst" || fail "postinst does not give the state directory to shackd"
for s in postinst prerm postrm; do sh -n "$work/control/$s" || fail "$s is not valid sh"; done

bin="$work/root/usr/bin/shackd"
for b in "$bin" "$work/root/usr/bin/shackd-sim"; do
  readelf -S "$b" | grep -q '\.symtab\|\.debug_info' && fail "$b is not stripped"
done
machine=$(readelf -h "$bin" | sed -nE 's/^ *Machine: *//p')
case $arch in
  arm64) want="AArch64" ;;
  armhf) want="ARM" ;;
  amd64) want="Advanced Micro Devices X86-64" ;;
  *) want="?" ;;
esac
[ "$machine" = "$want" ] || fail "usr/bin/shackd is for '$machine', want '$want'"
echo "stripped binary: $(stat -c %s "$bin") bytes ($machine)"

# Every library the binary needs must come from a package the .deb depends on.
depends=$(dpkg-deb -f "$deb" Depends)
depend_names=$(tr ',' '\n' <<<"$depends" | awk '{print $1}')
owner() {  # SONAME -> the package that ships it
  case $1 in
    libc.so.6 | libm.so.6 | ld-linux*) echo libc6; return ;;
    libstdc++.so.6) echo libstdc++6; return ;;
    libgcc_s.so.1) echo libgcc-s1; return ;;
  esac
  if [ -n "$sysroot" ]; then
    awk -v f="/$1" 'length($3) >= length(f) && substr($3, length($3) - length(f) + 1) == f {print $1; exit}' "$sysroot/.shackd-files"
  else
    dpkg -S "*/$1" 2>/dev/null | head -1 | cut -d: -f1
  fi
}
for lib in $(for b in "$bin" "$work/root/usr/bin/shackd-sim"; do readelf -d "$b"; done |
             sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | sort -u); do
  pkg=$(owner "$lib")
  if [ -z "$pkg" ]; then fail "no package found for $lib"
  elif ! grep -qxF "$pkg" <<<"$depend_names"; then fail "$lib comes from $pkg, which Depends does not name ($depends)"
  else echo "needs $lib: $pkg"
  fi
done

# Every Depends must resolve in the suite the package is for: its name (or a package providing
# it) is in that suite's index for the architecture, at a version that satisfies the relation.
# A cross build's index comes with its sysroot; a native build's is the host's apt.
if [ -n "$sysroot" ]; then
  cp "$sysroot/.shackd-index" "$work/index"
else
  apt-cache dumpavail | awk -f "$(dirname "$0")/../../cmake/deb/package-index.awk" >"$work/index"
fi
suite_version=$(dpkg-deb -f "$deb" Version)
echo "version: $suite_version; index: $(wc -l <"$work/index") packages"
while IFS= read -r dep; do
  dep=$(sed -E 's/^ +| +$//g' <<<"$dep")
  name=${dep%% *}
  relation=$(sed -nE 's/.*\(([<>=]+) *([^)]+)\).*/\1 \2/p' <<<"$dep")
  versions=$(awk -v n="$name" '$1 == n {print $2} { for (i = 3; i <= NF; i++) if ($i == n || $i == n",") print $2 }' "$work/index")
  if [ -z "$versions" ]; then fail "Depends '$dep': no package $name in the suite's index"; continue; fi
  if [ -n "$relation" ]; then
    op=${relation%% *}
    want=${relation#* }
    case $op in ">=") op=ge ;; "<=") op=le ;; "=") op=eq ;; ">>") op=gt ;; "<<") op=lt ;; esac
    ok=0
    for v in $versions; do dpkg --compare-versions "$v" "$op" "$want" && ok=1; done
    [ $ok -eq 1 ] || fail "Depends '$dep': the suite has $name $(tr '\n' ' ' <<<"$versions")only"
  fi
  echo "resolves: $dep"
done < <(tr ',' '\n' <<<"$depends")

# lintian: no errors and no warnings (informational tags are printed).
lintian --fail-on error,warning -I "$deb" 2>/dev/null | tee "$work/lintian"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "lintian reports errors or warnings (above)"

[ $failed -eq 0 ] && echo "ok: $(basename "$deb")"
exit $((failed > 0))

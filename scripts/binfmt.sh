#!/usr/bin/env bash
# Lets the kernel run ARCH's programs through qemu-user-static, so that a chroot into a Pi's root
# (debootstrap's second stage, apt, dpkg's maintainer scripts) works on this x86 machine.
# Usage: scripts/binfmt.sh arm64|armhf|<the host's>   (root). Exits 0 when ARCH's programs run, 1 when the
# kernel refuses the registration: then only single programs can be run, by naming qemu.
# The registration has the F flag: the kernel opens the static qemu now, so it need not exist
# inside the chroot (binfmt-misc.rst in the kernel's documentation).
set -euo pipefail
arch=${1:?usage: binfmt.sh arm64|armhf}
# The host's own architecture runs as it is (tests/package/pi_root.sh with a native package).
[ "$arch" = "$(dpkg --print-architecture)" ] && exit 0
case $arch in
  arm64)
    qemu=qemu-aarch64
    magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
  armhf)
    qemu=qemu-arm
    magic='\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00'
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
  *) echo "binfmt: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 64 ;;
esac
dir=/proc/sys/fs/binfmt_misc
if [ ! -e "$dir/register" ]; then
  mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null || { echo "binfmt: cannot mount binfmt_misc" >&2; exit 1; }
fi
"$(dirname "$0")/setup.sh" qemu-user-static >/dev/null
# Debian's qemu-user-static registers itself when binfmt_misc was mounted at its install; else
# register here. Either way the entry must be enabled and fixed (F) to a static qemu.
for entry in "$dir/$qemu" "$dir/shackd-$qemu"; do
  if [ -f "$entry" ] && grep -qx enabled "$entry" && grep -q '^flags: .*F' "$entry"; then exit 0; fi
done
[ -e "$dir/shackd-$qemu" ] && echo -1 >"$dir/shackd-$qemu"
if ! printf ':shackd-%s:M::%s:%s:/usr/bin/%s-static:F\n' "$qemu" "$magic" "$mask" "$qemu" >"$dir/register" 2>/dev/null; then
  echo "binfmt: the kernel refused to register $qemu for $arch programs" >&2
  exit 1
fi

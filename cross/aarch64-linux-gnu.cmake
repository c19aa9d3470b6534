# Raspberry Pi 3/4/5 on 64-bit Raspberry Pi OS (bookworm), which uses Debian's arm64 archive.
# Usage: scripts/cross.sh arm64   (or cmake -DCMAKE_TOOLCHAIN_FILE=cross/aarch64-linux-gnu.cmake
#        -DSHACKD_SYSROOT=<dir from scripts/cross-sysroot.sh arm64>)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SHACKD_TRIPLET aarch64-linux-gnu)
set(SHACKD_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)

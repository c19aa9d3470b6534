# 32-bit Raspberry Pi OS on a Pi 2, 3, 4, 5 or Zero 2 W. Debian armhf is ARMv7-A + VFPv3-D16
# (Thumb-2): it does NOT run on the ARMv6 Pi 1 or Pi Zero/Zero W (README, "Raspberry Pi").
# Usage: scripts/cross.sh armhf
set(CMAKE_SYSTEM_PROCESSOR arm)
set(SHACKD_TRIPLET arm-linux-gnueabihf)
set(SHACKD_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)

# Shared by the per-architecture toolchain files. Expects SHACKD_TRIPLET, SHACKD_QEMU and
# CMAKE_SYSTEM_PROCESSOR to be set, and a sysroot made by scripts/cross-sysroot.sh.
#
# The compiler is Debian's cross gcc (g++-<triplet>); its C and C++ runtime (libc6-dev and
# libstdc++ for the target) lives in /usr/<triplet>. The third-party libraries (libmodbus, libmosquitto,
# SQLite, yaml-cpp, fmt, OpenSSL) come from the target's own .debs, unpacked into the sysroot, so
# the host's packages are never replaced (libyaml-cpp-dev is not Multi-Arch: same in bookworm).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SHACKD_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${SHACKD_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${SHACKD_TRIPLET})

if(NOT SHACKD_SYSROOT)
  set(SHACKD_SYSROOT "$ENV{SHACKD_SYSROOT}")
endif()
if(NOT SHACKD_SYSROOT OR NOT EXISTS "${SHACKD_SYSROOT}/usr/lib/${SHACKD_TRIPLET}")
  message(FATAL_ERROR "SHACKD_SYSROOT='${SHACKD_SYSROOT}' is not a sysroot for ${SHACKD_TRIPLET}: "
                      "make one with scripts/cross-sysroot.sh, or run scripts/cross.sh")
endif()
# try_compile projects re-read this file without the cache; pass the sysroot on to them.
set(ENV{SHACKD_SYSROOT} "${SHACKD_SYSROOT}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SHACKD_SYSROOT)

# Libraries, headers and CMake package files come only from the sysroot (and the cross libc);
# programs (pkg-config, cmake itself) from the host.
set(CMAKE_FIND_ROOT_PATH "${SHACKD_SYSROOT}" "/usr/${SHACKD_TRIPLET}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libmodbus) reads only the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_LIBDIR} "${SHACKD_SYSROOT}/usr/lib/${SHACKD_TRIPLET}/pkgconfig:${SHACKD_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SHACKD_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# The sysroot's headers come before the ones the cross gcc would find in the host's /usr/include,
# and the linker resolves the libraries' own dependencies (libmosquitto -> libssl) in the sysroot.
# Both library directories: bookworm's zlib1g (cpp-httplib links it) still ships in /lib.
set(_shackd_libdir "${SHACKD_SYSROOT}/usr/lib/${SHACKD_TRIPLET}:${SHACKD_SYSROOT}/lib/${SHACKD_TRIPLET}")
set(CMAKE_CXX_FLAGS_INIT "-isystem ${SHACKD_SYSROOT}/usr/include/${SHACKD_TRIPLET} -isystem ${SHACKD_SYSROOT}/usr/include")
set(CMAKE_C_FLAGS_INIT "${CMAKE_CXX_FLAGS_INIT}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_shackd_libdir}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_shackd_libdir}")

# Tests run under qemu-user: the loader and libc from the cross libc, the rest from the sysroot.
# (-E sets the variable for the emulated program only, not for qemu itself.)
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${SHACKD_QEMU} -L /usr/${SHACKD_TRIPLET} -E LD_LIBRARY_PATH=${_shackd_libdir})

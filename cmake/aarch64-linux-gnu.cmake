# Cross-building golat for linux/arm64 on a Debian x86-64 host (issue 21):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# With Debian's gcc-aarch64-linux-gnu and the arm64 libraries from multiarch
# (libcapstone-dev:arm64, zlib1g-dev:arm64: /usr/lib/aarch64-linux-gnu, headers in
# /usr/include/aarch64-linux-gnu and /usr/include). deps.sh installs them. The programs it
# builds run here under qemu-user through binfmt_misc (tests/arm64/qemu.sh).
# What an arm64 build has so far: cmake/arm64.cmake.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(GOLAT_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${GOLAT_CROSS_TRIPLET}-gcc)
set(CMAKE_ASM_COMPILER ${GOLAT_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${GOLAT_CROSS_TRIPLET})
# Libraries and headers: the cross toolchain's own root, then the host's root with the
# multiarch directory first (CMAKE_LIBRARY_ARCHITECTURE). Programs (pkg-config, go,
# python3) are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/${GOLAT_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config answers for arm64: only the arm64 and architecture-independent .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${GOLAT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# CTest of an arm64 build runs its test programs through qemu-user when it is installed,
# so that they run where binfmt_misc has no qemu-aarch64 too. Without -L: the arm64 libc
# is multiarch's, in / (`qemu-aarch64 -L /usr/aarch64-linux-gnu` hung).
find_program(GOLAT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(GOLAT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GOLAT_QEMU_AARCH64})
endif()

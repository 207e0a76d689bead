# SPDX-License-Identifier: BSL-1.0
# Cross-builds senet for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: GCC 12,
# C++20, the "posix" thread model, which std::thread and std::mutex need). The runtime (libgcc,
# libstdc++, winpthread) is linked statically, so that an .exe runs under Wine or on Windows without
# any mingw DLL beside it. The `windows` preset uses this file; scripts/test runs the result under
# Wine (wine64).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SENET_MINGW_PREFIX x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${SENET_MINGW_PREFIX}-gcc-posix REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${SENET_MINGW_PREFIX}-g++-posix REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${SENET_MINGW_PREFIX}-windres)
find_program(CMAKE_AR NAMES ${SENET_MINGW_PREFIX}-gcc-ar-posix ${SENET_MINGW_PREFIX}-ar)
find_program(CMAKE_RANLIB NAMES ${SENET_MINGW_PREFIX}-gcc-ranlib-posix ${SENET_MINGW_PREFIX}-ranlib)

set(CMAKE_FIND_ROOT_PATH /usr/${SENET_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime: no libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll to ship.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# Test executables run under Wine on this (Linux) machine; CTest prefixes them with it.
find_program(SENET_WINE NAMES wine64 wine)
if(SENET_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SENET_WINE})
endif()

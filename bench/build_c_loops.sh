#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Builds the programs of the echo benchmarks (docs/benchmarks.md) into OUT (default
# /work/build/bench-c): the minimal epoll and liburing echo servers and the load generator, in C;
# and, if SENET_BUILD (a configured and built senet build directory holding libsenet.a, Release for
# meaningful figures) is given, bench/senet_echo_server.cpp and bench/senet_c_echo_server.c against it.
#
#   bench/build_c_loops.sh [OUT [SENET_BUILD]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/work/build/bench-c}
senet_build=${2:-}
cc=${CC:-cc}
cxx=${CXX:-c++}
warnings="-Wall -Wextra -Wpedantic -Werror"
mkdir -p "$out"
$cc -std=c11 -O2 $warnings -o "$out/c_epoll_echo" "$here/c_epoll_echo.c"
$cc -std=c11 -O2 $warnings -o "$out/c_uring_echo" "$here/c_uring_echo.c" -luring
$cc -std=c11 -O2 $warnings -o "$out/echo_load" "$here/echo_load.c"
echo "built c_epoll_echo, c_uring_echo, echo_load in $out"
if [ -n "$senet_build" ]; then
  $cxx -std=c++20 -O2 -DNDEBUG $warnings -I"$here/../include" -I"$senet_build/include" \
    -o "$out/senet_echo_server" "$here/senet_echo_server.cpp" "$senet_build/libsenet.a" -luring -pthread
  $cc -std=c11 -O2 -DNDEBUG $warnings -I"$here/../include" -o "$out/senet_c_echo_server" \
    "$here/senet_c_echo_server.c" "$senet_build/libsenet.a" -luring -pthread -lstdc++
  echo "built senet_echo_server and senet_c_echo_server in $out (senet from $senet_build)"
fi

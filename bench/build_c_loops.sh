#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Builds the C programs of the echo benchmarks (docs/benchmarks.md) into DIR (default
# /work/build/bench-c, or the first argument): the minimal epoll and liburing echo servers and the
# load generator. -O2, the flags of the release preset.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/work/build/bench-c}
cc=${CC:-cc}
flags="-std=c11 -O2 -Wall -Wextra -Wpedantic -Werror"
mkdir -p "$out"
$cc $flags -o "$out/c_epoll_echo" "$here/c_epoll_echo.c"
$cc $flags -o "$out/c_uring_echo" "$here/c_uring_echo.c" -luring
$cc $flags -o "$out/echo_load" "$here/echo_load.c"
echo "built c_epoll_echo, c_uring_echo, echo_load in $out"

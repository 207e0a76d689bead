#!/bin/bash
# SPDX-License-Identifier: BSL-1.0
# examples/c_echo.c built for Windows, run under Wine against the same example built for Linux, on
# loopback (every wait bounded):
#   1. the Windows server, driven by the Linux client: 8 connections × 50 messages of 3,000 bytes,
#      then 1 connection × 20 messages of 256 KiB (partial sends and receives), every byte checked
#      by the client; the server (--exit-after 9) must then exit with status 0;
#   2. the Windows client (4 connections × 50 messages of 1,000 bytes) against the Linux server;
#   3. a bad argument: status 2 and the usage.
# Usage: c_echo_win32_test.sh <c_echo.exe> <Linux c_echo>. Without the Linux program the test is
# skipped (status 77). Environment: WINE, WINEPREFIX, WINEDEBUG (set by CTest).
set -u
exe=$1
linux=${2:-}
if [ -z "$linux" ] || [ ! -x "$linux" ]; then
  echo "c_echo_win32_test: skipped: no Linux build of examples/c_echo (configure with" \
    "-DSENET_LINUX_C_ECHO=<build>/examples/c_echo; scripts/test does)"
  exit 77
fi
wine=${WINE:-wine}
dir=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "c_echo_win32_test: $*"
  for f in "$dir"/*.log; do
    [ -s "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
  done
  exit 1
}

# Starts "$@" (a c_echo server) in the background with its stdout in $dir/$name.out; sets $server
# and $port once it printed "listening on port N" (at most 30 s).
start_server() {
  local name=$1
  shift
  "$@" </dev/null >"$dir/$name.out" 2>"$dir/$name.log" &
  server=$!
  port=
  for _ in $(seq 1 300); do
    port=$(tr -d '\r' <"$dir/$name.out" | sed -n 's/^listening on port \([0-9]*\)$/\1/p')
    [ -n "$port" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name printed no port within 30 s"
}

# Waits at most 30 s for the server to exit; fails unless its status is 0.
expect_server_exit() {
  local name=$1
  for _ in $(seq 1 300); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server" 2>/dev/null && fail "$name did not exit within 30 s of serving its connections"
  wait "$server"
  local status=$?
  server=
  [ "$status" -eq 0 ] || fail "$name exited with status $status"
}

# 1. The Windows server, the Linux client.
start_server windows_server "$wine" "$exe" server --exit-after 9
timeout 60 "$linux" client --port "$port" --connections 8 --messages 50 --size 3000 --seconds 30 \
  >"$dir/linux_client.log" 2>&1 || fail "the Linux client (8 connections) failed against the Windows server"
timeout 60 "$linux" client --port "$port" --connections 1 --messages 20 --size 262144 --seconds 30 \
  >>"$dir/linux_client.log" 2>&1 || fail "the Linux client (256 KiB messages) failed against the Windows server"
expect_server_exit "the Windows server"
grep -q "9 connection(s) served" "$dir/windows_server.log" || fail "the Windows server did not report 9 connections"

# 2. The Linux server, the Windows client.
start_server linux_server "$linux" server --exit-after 4
timeout 60 "$wine" "$exe" client --port "$port" --connections 4 --messages 50 --size 1000 --seconds 30 \
  </dev/null >"$dir/windows_client.log" 2>&1 || fail "the Windows client failed against the Linux server"
grep -q "4 of 4 connection(s) echoed 50 message(s)" "$dir/windows_client.log" \
  || fail "the Windows client did not report its 4 connections"
expect_server_exit "the Linux server"

# 3. A bad argument.
timeout 60 "$wine" "$exe" server --port x </dev/null >"$dir/bad.out" 2>"$dir/bad_argument.log"
status=$?
[ "$status" -eq 2 ] || fail "a bad argument gave status $status, not 2"
grep -q "usage: c_echo" "$dir/bad_argument.log" || fail "a bad argument did not print the usage"

echo "c_echo_win32_test: examples/c_echo.c for Windows under Wine: its server echoed 9 Linux connections" \
  "(400 messages of 3,000 bytes, 20 of 256 KiB) and exited with 0; its client echoed 4 × 50 messages" \
  "through the Linux server; a bad argument gave status 2"

#!/bin/bash
# SPDX-License-Identifier: BSL-1.0
# Runs c_echo_win32.exe (a C11 program on the C API, built for Windows) under Wine and drives it
# from a Linux client (bash's /dev/tcp on loopback): 50 messages of 1 to 3,000 bytes, each echoed
# whole, then the client closes and the server must exit with status 0. Every wait is bounded.
# Environment: WINE, WINEPREFIX, WINEDEBUG (set by CTest).
set -u
exe=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${WINE:-wine}" "$exe" "Z:$dir/port" </dev/null >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  [ -s "$dir/port" ] && break
  sleep 0.1
done
port=$(tr -d '\r\n' <"$dir/port" 2>/dev/null)
if [ -z "$port" ]; then
  echo "c_echo_win32_test: the server wrote no port within 30 s"; cat "$dir/server.log"
  kill "$server" 2>/dev/null
  exit 1
fi
exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo "c_echo_win32_test: cannot connect to port $port"; exit 1; }
status=0
for i in $(seq 1 50); do
  n=$(( (i * 61) % 3000 + 1 ))
  msg=$(head -c "$n" /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + i % 26)))")
  printf '%s' "$msg" >&3
  if ! IFS= read -r -t 10 -N "$n" reply <&3 || [ "$reply" != "$msg" ]; then
    echo "c_echo_win32_test: message $i ($n bytes) did not come back whole"
    status=1
    break
  fi
done
exec 3>&-
for _ in $(seq 1 300); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
  echo "c_echo_win32_test: the server did not exit within 30 s of the client's close"
  kill "$server"
  exit 1
fi
wait "$server"
server_status=$?
cat "$dir/server.log"
if [ "$server_status" -ne 0 ]; then
  echo "c_echo_win32_test: the server exited with status $server_status"
  exit 1
fi
[ "$status" -eq 0 ] && echo "c_echo_win32_test: 50 messages echoed by the Windows server under Wine; it exited with 0"
exit $status

#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Runs the echo example pair: the server on a free port, the client against it, then SIGTERM the
# server and check that it exits with status 0. $1 is the folder holding the example programs.
set -euo pipefail
bin=${1:?usage: echo.sh <examples build folder>}
server_bin=$bin/echo_server_senders
client_bin=$bin/echo_client_senders
for b in "$server_bin" "$client_bin"; do
  [ -x "$b" ] || { echo "echo.sh: $b not found" >&2; exit 1; }
done

out=$(mktemp)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -f "$out"
}
trap cleanup EXIT

"$server_bin" --port 0 >"$out" &
server_pid=$!

# Wait (at most 10 s) for "listening on port N".
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "echo.sh: the server exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "echo.sh: the server did not report its port" >&2; exit 1; }
echo "server listening on port $port"

status=0
timeout 60 "$client_bin" --port "$port" --connections 16 --messages 200 --size 64 || status=$?
timeout 60 "$client_bin" --port "$port" --connections 2 --messages 3 --size $((4 * 1024 * 1024)) || status=$?

kill -TERM "$server_pid"
server_status=0
# The server must exit by itself within 10 s of SIGTERM.
for _ in $(seq 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "echo.sh: the server did not exit after SIGTERM" >&2
  exit 1
fi
wait "$server_pid" || server_status=$?
server_pid=
if [ "$server_status" -ne 0 ]; then
  echo "echo.sh: the server exited with status $server_status" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "echo.sh: the client failed (status $status)" >&2
  exit 1
fi
echo "echo: ok"

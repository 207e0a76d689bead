#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Runs echo_server_reuseport (one io_context per thread on one port, SO_REUSEPORT) with 4 threads
# against echo_client_senders; the server must exit by itself with status 0 after the client's
# connections (16, plus the client's probe connection). $1 is the folder holding the examples.
set -euo pipefail
bin=${1:?usage: echo_reuseport.sh <examples build folder>}
server_bin=$bin/echo_server_reuseport
client_bin=$bin/echo_client_senders
for b in "$server_bin" "$client_bin"; do
  [ -x "$b" ] || { echo "echo_reuseport.sh: $b not found" >&2; exit 1; }
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

"$server_bin" --port 0 --threads 4 --exit-after 17 >"$out" &
server_pid=$!

port=
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "echo_reuseport.sh: the server exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "echo_reuseport.sh: the server did not report its port" >&2; exit 1; }
echo "server listening on port $port"

status=0
timeout 60 "$client_bin" --port "$port" --connections 16 --messages 200 --size 64 || status=$?

for _ in $(seq 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "echo_reuseport.sh: the server did not exit after its connections" >&2
  exit 1
fi
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
[ "$server_status" -eq 0 ] || { echo "echo_reuseport.sh: the server exited with $server_status" >&2; exit 1; }
[ "$status" -eq 0 ] || { echo "echo_reuseport.sh: the client failed (status $status)" >&2; exit 1; }
echo "echo_reuseport: ok"

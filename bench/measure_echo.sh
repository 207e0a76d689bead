#!/bin/bash
# SPDX-License-Identifier: BSL-1.0
# Measures an echo server the way docs/benchmarks.md reports it: server-side user-space
# instructions per 64-byte round trip at 64 connections, and round trips per second.
#
#   bench/measure_echo.sh LOAD_GENERATOR SERVER [SERVER ARGS...]
#
# The server must listen on 127.0.0.1, print "listening on port P" on stdout, and exit with
# status 0 either by itself once the load generator's connections are closed (give
# bench/senet_echo_server --exit-after 64) or on SIGTERM (bench/c_*_echo.c,
# examples/echo_server_senders).
#
# Instructions: the hardware counters (perf stat -e instructions:u,instructions:k) are preferred,
# but where the kernel offers none (virtual machines) the server runs under valgrind's cachegrind,
# which counts user-space instructions only. To cancel start-up, accept and shutdown costs, each
# run is done with two loads (LOW and HIGH round trips per connection) and the figure is
# (instructions(HIGH) - instructions(LOW)) / (64 * (HIGH - LOW)). Repeated REPEAT times; the median
# is printed. Environment: CONNECTIONS (64), LOW (200), HIGH (1200), REPEAT (5), RATE_ROUND_TRIPS
# (2000 per connection, for the native throughput runs).
set -euo pipefail
shopt -s inherit_errexit

load=$1
shift
connections=${CONNECTIONS:-64}
low=${LOW:-200}
high=${HIGH:-1200}
repeat=${REPEAT:-5}
rate_round_trips=${RATE_ROUND_TRIPS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# start_server OUTFILE WRAPPER... : starts "$@ server", waits for its port; sets server_pid, port.
start_server() {
  local out=$1
  shift
  # The file is truncated by the child after the fork: remove it first, so that no earlier run's
  # port is read.
  rm -f "$out" "$out.err"
  "$@" > "$out" 2> "$out.err" &
  server_pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(grep -o "listening on port [0-9][0-9]*" "$out" 2> /dev/null | awk '{print $4}' || true)
    if [ -n "$port" ]; then
      return 0
    fi
    sleep 0.05
  done
  echo "server did not start: $*" >&2
  cat "$out.err" >&2
  kill -KILL "$server_pid" 2> /dev/null || true
  return 1
}

stop_server() {
  # A server that ends by itself after the load has a few seconds to do so.
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -TERM "$server_pid" 2> /dev/null || true
  # Under valgrind a signal is only handled once a blocking io_uring_enter returns: a connection
  # attempt gives the server's ring a completion.
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null || true
  done
  if ! wait "$server_pid"; then
    echo "server exited with an error" >&2
    return 1
  fi
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# User-space instructions of one server run with R round trips per connection.
instructions() {
  local r=$1
  shift
  start_server "$work/out" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@"
  "$load" --port "$port" --connections "$connections" --round-trips "$r" --seconds 600 > /dev/null
  stop_server
  grep "I *refs" "$work/out.err" | awk '{gsub(",", "", $NF); print $NF}'
}

per_round_trip=()
for _ in $(seq "$repeat"); do
  a=$(instructions "$low" "$@")
  b=$(instructions "$high" "$@")
  per_round_trip+=("$(awk -v a="$a" -v b="$b" -v c="$connections" -v l="$low" -v h="$high" \
    'BEGIN {printf "%.1f", (b - a) / (c * (h - l))}')")
done

rates=()
for _ in $(seq "$repeat"); do
  start_server "$work/out" "$@"
  line=$("$load" --port "$port" --connections "$connections" --round-trips "$rate_round_trips" --seconds 600)
  stop_server
  rates+=("$(echo "$line" | sed 's/.*round_trips_per_second=//')")
done

echo "server: $*"
echo "user instructions per round trip (cachegrind, median of $repeat): $(printf '%s\n' "${per_round_trip[@]}" | median)" \
  " [runs: ${per_round_trip[*]}]"
echo "round trips per second (native, median of $repeat): $(printf '%s\n' "${rates[@]}" | median)" \
  " [runs: ${rates[*]}]"

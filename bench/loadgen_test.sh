#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Checks senet-loadgen against the raw echo loops (a CTest test; bench/CMakeLists.txt):
# ping-pong, counted round trips, bulk, idle and soak each succeed and report their figures; the
# soak fails when the process it watches keeps a descriptor; a bad option exits with status 2 and
# says why; a refused connection exits with status 1.
#
#   bench/loadgen_test.sh BINARY_DIR
set -eu
dir=$1
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# expect OUTPUT WORD...: every WORD occurs in OUTPUT.
expect() {
  out=$1
  shift
  for word in "$@"; do
    case "$out" in
      *"$word"*) ;;
      *) fail "no '$word' in: $out" ;;
    esac
  done
}

# start_server NAME ARGS...: starts $dir/NAME in the background; sets server_pid, and port to the
# port it listens on (empty if it said none within 5 s).
start_server() {
  name=$1
  shift
  "$dir/$name" "$@" > "$work/port" 2> "$work/err" &
  server_pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/port")
    [ -n "$port" ] && break
    sleep 0.05
  done
}

for server in c_epoll_echo c_uring_multishot_echo; do
  start_server "$server" --exit-after 6
  if [ -z "$port" ] && grep -q io_uring "$work/err"; then
    echo "$server: no io_uring here, skipped: $(cat "$work/err")"
    server_pid=""
    continue
  fi
  [ -n "$port" ] || fail "$server did not start: $(cat "$work/err")"
  lg="$dir/senet-loadgen --port $port"
  out=$($lg --connections 2 --seconds 0.2 --warmup 0.05 --server-pid $server_pid --json)
  expect "$out" '"mode": "ping-pong"' '"round_trips_per_second": ' '"p99_us": ' '"server_cpu_us_per_round_trip": ' \
    '"server_syscalls_per_round_trip": ' '"server_instructions_per_round_trip": '
  out=$($lg --connections 1 --round-trips 50)
  expect "$out" "round_trips=50 "
  out=$($lg --mode bulk --seconds 0.2 --server-pid $server_pid)
  expect "$out" "mode=bulk" "gb_per_second=" "server_cpu_us_per_mb="
  out=$($lg --mode idle --connections 1 --seconds 0.05 --server-pid $server_pid)
  expect "$out" "mode=idle" "server_bytes_per_connection="
  # The sixth connection: the server ends by itself.
  $lg --connections 1 --round-trips 1 > /dev/null
  wait "$server_pid" || fail "$server exited with an error"
  server_pid=""
done

# The soak: mixed traffic, and the server's descriptors and memory checked. A soak whose watched
# process opens a descriptor during the run (and keeps it) fails and says so.
# (senet's echo server: the minimal C loops are for measuring, and neither survive resets nor echo
# what does not fit the socket buffer at once.)
start_server senet_echo_server --backend epoll
[ -n "$port" ] || fail "senet_echo_server did not start: $(cat "$work/err")"
out=$("$dir/senet-loadgen" --port "$port" --mode soak --connections 4 --seconds 1 --server-pid $server_pid)
expect "$out" "mode=soak" "round_trips=" "half_closes=" "resets=" "abandoned=" "server_fds_after=" \
  "server_rss_growth_kib="
case "$out" in *" half_closes=0 "* | *" resets=0 "* | *" round_trips=0 "*) fail "a soak without mixed traffic: $out" ;; esac
sh -c 'sleep 0.5; exec 7< /dev/null; sleep 30' &
leaky=$!
status=0
"$dir/senet-loadgen" --port "$port" --mode soak --connections 2 --seconds 1 --server-pid "$leaky" \
  > /dev/null 2> "$work/err" || status=$?
kill "$leaky" 2> /dev/null || true
wait "$leaky" 2> /dev/null || true
[ "$status" -eq 1 ] || fail "a soak whose process kept a descriptor exited with status $status, not 1"
expect "$(cat "$work/err")" "descriptors after the soak"
kill "$server_pid"
wait "$server_pid" || true
server_pid=""

status=0
"$dir/senet-loadgen" --port 1 --mode sideways > /dev/null 2> "$work/err" || status=$?
[ "$status" -eq 2 ] || fail "a bad --mode exited with status $status, not 2"
expect "$(cat "$work/err")" "--mode wants ping-pong, bulk, idle or soak, not: sideways" "usage:"
status=0
"$dir/senet-loadgen" --connections 3 > /dev/null 2> "$work/err" || status=$?
[ "$status" -eq 2 ] || fail "a missing --port exited with status $status, not 2"
"$dir/senet-loadgen" --help | grep -q "usage: senet-loadgen" || fail "--help prints no usage"
# The port of the server that just ended: nobody listens there now.
status=0
"$dir/senet-loadgen" --port "$port" --seconds 0.1 > /dev/null 2> "$work/err" || status=$?
[ "$status" -eq 1 ] || fail "a refused connection exited with status $status, not 1"
echo "senet-loadgen: all checks passed"

#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Checks bench/run on a subset of its servers that leaves out the raw loops they are compared
# with (a CTest test; bench/CMakeLists.txt): it finishes, prints a row per server, and the
# ratios it cannot compute are "–" (it once stopped with a Python StopIteration there).
#
#   bench/run_subset_test.sh SOURCE_DIR BUILD_DIR
set -eu
out=$(python3 "$1/bench/run" --no-build --build-dir "$2" --servers 'senet senders' --no-callgrind \
  --connections 1 --main-connections 1 --bulk-size 0 --idle-connections 0 --repetitions 1 \
  --seconds 0.2 --warmup 0)
echo "$out"
for backend in epoll uring; do
  if ! echo "$out" | grep -q "^| \*\*senet senders\*\* | $backend | [0-9][0-9,]* | – |"; then
    echo "run_subset_test: no row for the senders on $backend with a \"–\" ratio" >&2
    exit 1
  fi
done

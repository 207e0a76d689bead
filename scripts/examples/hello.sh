#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Runs hello_senders and checks what it prints. $1 is the folder holding the example programs.
set -euo pipefail
bin=${1:?usage: hello.sh <examples build folder>}
out=$(timeout 30 "$bin/hello_senders")
echo "$out"
grep -qx "hello, senders" <<<"$out" || { echo "hello.sh: no greeting" >&2; exit 1; }
grep -qx "timer fired" <<<"$out" || { echo "hello.sh: the timer did not fire" >&2; exit 1; }

#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Server CPU time (user and system) per 64-byte echo round trip, from getrusage of the server.

Where the CPU's instruction counters are not available (virtual machines), this is the measure of
the kernel's share that remains: docs/benchmarks.md reports it next to cachegrind's user-space
instruction counts.

    bench/measure_cpu.py LOAD_GENERATOR [--round-trips N] [--repeat N] -- SERVER [ARGS...]

The server must listen on 127.0.0.1, print "listening on port P" as its first line of output, and
exit either by itself once the load's 64 connections are closed (bench/senet_echo_server
--exit-after 64) or on SIGTERM (bench/c_*_echo.c). Prints the medians of REPEAT runs (default 3)
of N round trips per connection (default 3000).
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

CONNECTIONS = 64


def run_once(load, server, round_trips):
    proc = subprocess.Popen(server, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r"listening on port (\d+)", proc.stdout.readline())
    if not match:
        proc.kill()
        sys.exit("server did not print its port: " + " ".join(server))
    subprocess.run([load, "--port", match.group(1), "--connections", str(CONNECTIONS),
                    "--round-trips", str(round_trips)], stdout=subprocess.DEVNULL, check=True)
    # A server that ends by itself has two seconds to do so; the others get SIGTERM. (os.wait4,
    # not proc.wait: the server's resource usage comes with its exit status.)
    for _ in range(200):
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid != 0:
            break
        time.sleep(0.01)
    else:
        proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped above
    if status != 0:
        sys.exit("server exited with status %d" % status)
    n = CONNECTIONS * round_trips
    return usage.ru_utime * 1e6 / n, usage.ru_stime * 1e6 / n


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("load")
    parser.add_argument("--round-trips", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv[:split])
    server = argv[split + 1:]
    if not server:
        parser.error("no server given")
    runs = [run_once(args.load, server, args.round_trips) for _ in range(args.repeat)]
    user = statistics.median(r[0] for r in runs)
    system = statistics.median(r[1] for r in runs)
    print("server: " + " ".join(server))
    print("CPU time per round trip (median of %d): user %.2f us, system %.2f us  [runs: %s]" %
          (args.repeat, user, system, " ".join("%.2f/%.2f" % r for r in runs)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Server RSS per idle connection, the way docs/benchmarks.md reports it.

    bench/measure_idle_rss.py [--connections N] [--base B] -- SERVER [ARGS...]

Starts SERVER (which prints "listening on port P"), opens B connections (default 100), makes one
64-byte round trip on each (so every session has started and armed its receive), waits for the
server to settle and reads its VmRSS from /proc; then does the same up to N connections (default
10,000) and prints (RSS(N) - RSS(B)) / (N - B) in bytes. The connections stay open and idle
while RSS is read. Needs `ulimit -n` above N + 100 in this shell (for both ends).
"""
import argparse
import re
import socket
import subprocess
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def settle(pid):
    # RSS stops moving once the server has handled every connection.
    last = -1
    for _ in range(50):
        time.sleep(0.2)
        now = rss_kib(pid)
        if now == last:
            return now
        last = now
    return last


def connect_round_trip(port, n, conns):
    payload = b"x" * 64
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            part = s.recv(64 - len(got))
            if not part:
                raise RuntimeError("server closed a connection")
            got += part
        conns.append(s)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--base", type=int, default=100)
    parser.add_argument("server", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    server = args.server[1:] if args.server and args.server[0] == "--" else args.server
    proc = subprocess.Popen(server, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"listening on port (\d+)", line).group(1))
        conns = []
        connect_round_trip(port, args.base, conns)
        base = settle(proc.pid)
        connect_round_trip(port, args.connections - args.base, conns)
        full = settle(proc.pid)
        per = (full - base) * 1024 / (args.connections - args.base)
        print(f"RSS {base} KiB at {args.base} connections, {full} KiB at {args.connections}: "
              f"{per:.0f} bytes per idle connection")
        for s in conns:
            s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Draws the plots of docs/performance.md from the JSON of `bench/run --json FILE`, as SVG files
written by this script (no plotting library needed):

    bench/plot.py RESULTS.json OUTPUT_DIRECTORY

- round_trips.svg: round trips per second, per server and ping-pong connection count;
- cpu.svg: the server's CPU time per round trip at the main connection count;
- instructions.svg: user-space instructions per round trip (callgrind), if measured;
- memory.svg: the server's resident memory per idle connection, if measured.
"""
import html
import json
import os
import sys

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]
KIND_COLORS = {"floor": "#9c9c9c", "senet": "#4e79a7", "other": "#f28e2b"}


def nice_max(value):
    """A round upper bound of the axis."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    while step * 10 < value:
        step *= 10
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def fmt(v):
    if v == 0:
        return "0"
    if v >= 100:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def bar_chart(title, unit, rows, series, colors=None):
    """rows: [(label, [value or None per series], kind)]; one horizontal bar per value."""
    label_width, chart_width, bar_height, gap = 260, 460, 14, 8
    per_row = bar_height * len(series) + gap
    top = 50 + (18 if len(series) > 1 else 0)
    height = top + per_row * len(rows) + 40
    width = label_width + chart_width + 90
    values = [v for _, vs, _ in rows for v in vs if v is not None]
    vmax = nice_max(max(values) if values else 1)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (10, html.escape(title))]
    if len(series) > 1:
        x = label_width
        for i, name in enumerate(series):
            out.append('<rect x="%d" y="32" width="12" height="12" fill="%s"/>' % (x, COLORS[i % len(COLORS)]))
            out.append('<text x="%d" y="43">%s</text>' % (x + 16, html.escape(name)))
            x += 24 + 7 * len(name)
    for tick in range(5):
        v = vmax * tick / 4
        x = label_width + chart_width * tick / 4
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top - 4, x, height - 34))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>' % (x, height - 20, fmt(v)))
    out.append('<text x="%d" y="%d" text-anchor="middle" fill="#555">%s</text>' %
               (label_width + chart_width / 2, height - 5, html.escape(unit)))
    for r, (label, vs, kind) in enumerate(rows):
        y0 = top + r * per_row
        weight = ' font-weight="bold"' if kind == "senet" else ""
        out.append('<text x="%d" y="%.1f" text-anchor="end"%s>%s</text>' %
                   (label_width - 8, y0 + per_row / 2, weight, html.escape(label)))
        for i, v in enumerate(vs):
            y = y0 + i * bar_height
            if v is None:
                out.append('<text x="%d" y="%d" fill="#999">n/a</text>' % (label_width + 4, y + bar_height - 3))
                continue
            color = colors[r] if colors else COLORS[i % len(COLORS)]
            w = chart_width * v / vmax
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' %
                       (label_width, y, w, bar_height - 2, color))
            out.append('<text x="%.1f" y="%d" fill="#333">%s</text>' % (label_width + w + 4, y + bar_height - 3, fmt(v)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    servers = [s for s in data["servers"] if s["status"] == "ok"]
    medians = data["medians"]
    pp_cells = [c["name"] for c in data["cells"] if c["mode"] == "ping-pong"]
    main_cell = "ping-pong %d" % data["settings"]["main_connections"]
    label = lambda s: "%s [%s]" % (s["name"], s["backend"])
    kinds = [s["kind"] for s in servers]
    colors = [KIND_COLORS[k] for k in kinds]

    def write(name, svg):
        with open(os.path.join(outdir, name), "w") as f:
            f.write(svg)
        print("wrote " + os.path.join(outdir, name))

    rows = [(label(s), [medians[s["key"]].get(c, {}).get("round_trips_per_second") for c in pp_cells], s["kind"])
            for s in servers]
    write("round_trips.svg", bar_chart("Round trips per second (64-byte ping-pong, median)", "round trips / s", rows,
                                       ["%s conn." % c.split()[-1] for c in pp_cells]))
    rows = [(label(s), [medians[s["key"]].get(main_cell, {}).get("server_cpu_us_per_round_trip")], s["kind"])
            for s in servers]
    write("cpu.svg", bar_chart("Server CPU time per round trip (%s connections)" % main_cell.split()[-1],
                               "µs (user + system)", rows, ["cpu"], colors))
    instructions = data.get("instructions", {})
    if instructions:
        rows = [(label(s), [instructions.get(s["key"], {}).get("per_round_trip")], s["kind"]) for s in servers]
        write("instructions.svg", bar_chart("User-space instructions per round trip (callgrind, %s connections)" %
                                            main_cell.split()[-1], "instructions", rows, ["instructions"], colors))
    if any("idle" == c["name"] for c in data["cells"]):
        rows = [(label(s), [medians[s["key"]].get("idle", {}).get("server_bytes_per_connection")], s["kind"])
                for s in servers]
        idle = next(c for c in data["cells"] if c["name"] == "idle")
        write("memory.svg", bar_chart("Server memory per idle connection (%d connections)" % idle["connections"],
                                      "bytes of resident memory", rows, ["memory"], colors))


if __name__ == "__main__":
    main()

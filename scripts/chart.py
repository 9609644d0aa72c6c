#!/usr/bin/env python3
"""scripts/chart.py: draws the bench.sh chart, requests/s and server CPU per request side by
side, one bar pair (redis, slotd) per test and pipeline depth.

Usage: chart.py MEDIANS_TSV OUT_PNG
MEDIANS_TSV rows: server, test, pipeline, rps, p50_ms, p99_ms, cpu_us_per_req (tab-separated).
Installs matplotlib with pip when it is missing; exits non-zero when it cannot draw.
"""

import csv
import importlib
import subprocess
import sys


def load_matplotlib():
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        print("chart.py: installing matplotlib with pip", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"],
            check=True,
            timeout=600,
        )
    import matplotlib

    matplotlib.use("Agg")  # no display on a bench machine
    import matplotlib.pyplot as plt

    return plt


def read_medians(path):
    rows = {}
    with open(path, newline="") as f:
        for server, test, pipeline, rps, _p50, _p99, cpu in csv.reader(f, delimiter="\t"):
            rows[(server, test.upper(), int(pipeline))] = (float(rps), float(cpu))
    return rows


def draw(rows, out_png, plt):
    groups = sorted({(t, p) for _, t, p in rows}, key=lambda g: (g[1], g[0]))
    labels = [f"{t}\nP{p}" for t, p in groups]
    servers = [("redis", "#c0392b"), ("slotd", "#2471a3")]
    width = 0.38
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, col, title in [(axes[0], 0, "requests/s (higher is better)"),
                           (axes[1], 1, "server CPU us/request (lower is better)")]:
        for i, (server, color) in enumerate(servers):
            xs = [g + (i - 0.5) * width for g in range(len(groups))]
            ys = [rows.get((server, t, p), (0.0, 0.0))[col] for t, p in groups]
            ax.bar(xs, ys, width, label=server, color=color)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(labels)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    fig.suptitle("slotd vs redis-server, one server core each (medians)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = read_medians(sys.argv[1])
    if not rows:
        print("chart.py: no rows to draw", file=sys.stderr)
        return 1
    draw(rows, sys.argv[2], load_matplotlib())
    return 0


if __name__ == "__main__":
    sys.exit(main())

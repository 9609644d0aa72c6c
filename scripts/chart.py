#!/usr/bin/env python3
"""scripts/chart.py: draws the bench.sh chart, requests/s and server CPU per request side by
side, one bar pair (redis, slotd) per test and pipeline depth. The Python bench scripts import
its grouped_bars (one or more panels of redis/slotd bar pairs) for their own charts.

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
            # "set r=1M" reads "SET r=1M": only the command is upper case.
            cmd, _, rest = test.partition(" ")
            label = (cmd.upper() + " " + rest).strip()
            rows[(server, label, int(pipeline))] = (float(rps), float(cpu))
    return rows


SERVER_COLORS = [("redis", "#c0392b"), ("slotd", "#2471a3")]


def grouped_bars(panels, out_path, title, plt=None, panel_width_in=6, log_y=False):
    """Draws side-by-side panels of bar pairs, one pair (redis, slotd) per group, and saves
    the figure (PNG or SVG by the file's extension). `panels` is a list of
    (panel title, group labels, {server: [value per group]}); a missing server draws no bars.
    A value of None draws no bar for that group. `log_y` for values of several magnitudes."""
    plt = plt or load_matplotlib()
    width = 0.38
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_width_in * len(panels), 4.5),
                             squeeze=False)
    for ax, (panel_title, labels, series) in zip(axes[0], panels):
        for i, (server, color) in enumerate(SERVER_COLORS):
            values = series.get(server)
            if not values:
                continue
            pairs = [(g + (i - 0.5) * width, v) for g, v in enumerate(values) if v is not None]
            ax.bar([x for x, _ in pairs], [v for _, v in pairs], width, label=server,
                   color=color)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels)
        ax.set_title(panel_title)
        ax.grid(axis="y", alpha=0.3)
        if log_y:
            ax.set_yscale("log")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def draw(rows, out_png, plt):
    groups = sorted({(t, p) for _, t, p in rows}, key=lambda g: (g[1], g[0]))
    # "SET r=1M" takes two lines under its bar pair.
    labels = [t.replace(" ", "\n") + f"\nP{p}" for t, p in groups]
    panels = []
    for col, title in [(0, "requests/s (higher is better)"),
                       (1, "server CPU us/request (lower is better)")]:
        series = {server: [rows.get((server, t, p), (0.0, 0.0))[col] for t, p in groups]
                  for server, _ in SERVER_COLORS}
        panels.append((title, labels, series))
    grouped_bars(panels, out_png, "slotd vs redis-server, one server core each (medians)", plt,
                 panel_width_in=max(6, 0.8 * len(groups)))


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

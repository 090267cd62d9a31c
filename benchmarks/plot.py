"""Plots the load runs in benchmarks/results/*.json (written by `load run --json`) as
benchmarks/load.png: bridge CPU per call-second, memory per call and agent audio p99
latency against the number of concurrent calls, with the issue's targets.

    python3 -m venv /tmp/plot && /tmp/plot/bin/pip install matplotlib
    /tmp/plot/bin/python benchmarks/plot.py
"""

import glob
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def load_runs(folder="results"):
    runs = {"plain": [], "tls": []}
    for path in glob.glob(os.path.join(HERE, folder, "*.json")):
        with open(path) as f:
            run = json.load(f)
        if run.get("bridge") != "built-in":
            continue  # the example bot's `serve` or a running bridge: not in the series
        runs["tls" if run["tls"] else "plain"].append(run)
    for series in runs.values():
        series.sort(key=lambda r: r["calls"])
    return runs


def main():
    runs = load_runs()
    # Earlier sets, in grey: edaf9c1 (the same commands minutes before, to show the
    # run-to-run spread), 0ad0d1b (before d3756a0 and 4e54f23) and 28f1580 (one message
    # per 100 ms delta).
    earlier = [
        (commit, load_runs(os.path.join("results", commit)), shade)
        for commit, shade in (("edaf9c1", "black"), ("0ad0d1b", "dimgrey"), ("28f1580", "silver"))
    ]
    panels = [
        ("bridge CPU (ms per call-second)", lambda r: r["bridge_cpu_ms_per_call_s"], 0.2, False),
        ("bridge memory per call (KiB)", lambda r: r["rss_per_call_kib"], 64, False),
        ("agent audio latency p99 (ms)", lambda r: r["agent_latency"]["p99_ms"], 5, True),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (title, value, target, log_y) in zip(axes, panels):
        for commit, before, shade in earlier:
            for name, style in (("plain", "o:"), ("tls", "s:")):
                series = before[name]
                if series:
                    ax.plot([r["calls"] for r in series], [value(r) for r in series], style,
                            color=shade, alpha=0.7, markersize=4,
                            label=f"{commit} {'wss://' if name == 'tls' else 'ws://'}")
        for name, style in (("plain", "o-"), ("tls", "s--")):
            series = runs[name]
            if not series:
                continue
            xs = [r["calls"] for r in series]
            ys = [value(r) for r in series]
            (line,) = ax.plot(xs, ys, style, label=f"agent leg {'wss://' if name == 'tls' else 'ws://'}")
            # Hollow markers: the tool fell behind real time (the machine was saturated).
            behind = [(x, y) for x, y, r in zip(xs, ys, series) if r["tick_lateness"]["tool_behind"]]
            if behind:
                ax.plot(*zip(*behind), "o", markersize=13, markerfacecolor="none",
                        markeredgecolor="red", label=None)
        ax.axhline(target, color="green", linestyle=":", label=f"target {target}")
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("concurrent calls (20 s each)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        "voice-bridge under load on 2 shared cores (red rings: the load tool fell behind real time)",
        fontsize=11,
    )
    fig.tight_layout()
    out = os.path.join(HERE, "load.png")
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()

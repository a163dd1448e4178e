"""The chart for docs/performance.md: each ratio beside its goal, and throughput by clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    figure, (ratios_ax, loops_ax, rate_ax) = plt.subplots(1, 3, figsize=(16, 5))
    names, medians, goals, colors = [], [], [], []
    for db, sections in results["databases"].items():
        for key, value in _ratios(sections):
            names.append(f"{db}: {key}")
            medians.append(value["median"])
            goals.append(value["goal"])
            colors.append("tab:green" if value["meets_goal"] else "tab:red")
    positions = range(len(names))
    ratios_ax.barh(positions, medians, color=colors)
    ratios_ax.scatter(goals, positions, marker="|", s=300, color="black", label="goal")
    ratios_ax.set_yticks(list(positions), names, fontsize=7)
    ratios_ax.set_xscale("log")
    ratios_ax.set_xlabel("median ratio (log scale); green = meets its goal")
    ratios_ax.legend()
    for db, sections in results["databases"].items():
        points = sections.get("loops", {}).get("checkpoints", {})
        if points:
            xs = [max(int(n), 1) for n in points]
            loops_ax.plot(xs, [p["completion_vs_0"]["median"] for p in points.values()], "o-", label=db)
    loops_ax.set_xscale("log")
    loops_ax.set_xlabel("return-for-revision loops (0 drawn at 1)")
    loops_ax.set_ylabel("HTTP completion ÷ at 0 loops")
    loops_ax.legend()
    for db, sections in results["databases"].items():
        rates = sections.get("throughput", {})
        if rates:
            loops_ax_x = [int(c) for c in rates]
            rate_ax.plot(loops_ax_x, [r["completions_per_s"] for r in rates.values()], "o-", label=db)
        several = {c: r for c, r in sections.get("throughput_workers", {}).items() if c.isdigit()}
        if several:
            rate_ax.plot([int(c) for c in several], [r["completions_per_s"] for r in several.values()], "s--",
                         label=f"{db}, 4 processes")
    rate_ax.set_xlabel("clients")
    rate_ax.set_ylabel("completions per second")
    rate_ax.legend()
    figure.suptitle(f"Khanton make bench, scale {results['scale']}, {results['date']}")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _ratios(sections: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for section in sections.values():
        if isinstance(section, dict):
            found += [(k, v) for k, v in section.items() if isinstance(v, dict) and "goal" in v and "median" in v]
    return found

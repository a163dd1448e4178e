"""The "Measured on this machine" table of docs/performance.md, from docs/performance.json:
`python -m tests.bench_report [performance.json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT


def _cell(figure: dict[str, Any]) -> str:
    mark = "" if figure.get("meets_goal", True) else " ✗"
    return f"{figure['median']:.2f}× ({figure['min']:.2f}–{figure['max']:.2f}, n={figure['count']}){mark}"


def table(results: dict[str, Any]) -> str:
    dbs = list(results["databases"])
    rows = [f"Run {results['date']}, scale {results['scale']}, {results['machine']}, "
            f"{results['seconds'] / 60:.1f} min. Median (min–max, samples); ✗ misses its goal.", "",
            "| figure | goal | " + " | ".join(dbs) + " |", "|---|---|" + "---|" * len(dbs)]
    keys: dict[str, tuple[str, str]] = {}
    for sections in results["databases"].values():
        for section in ("round_trip", "scale"):
            for key, value in sections.get(section, {}).items():
                if isinstance(value, dict) and "goal" in value:
                    keys[key] = (section, f"≤ {value['goal']}")
        for key in sections.get("floor", {}):  # what the goals above cannot go below
            keys[key] = ("floor", "floor")
        for n in sections["loops"]["checkpoints"]:
            keys[f"completion after {n} loops ÷ at 0"] = ("loops", "≈ 1")
    for key, (section, goal) in keys.items():
        cells = []
        for db in dbs:
            part = results["databases"][db].get(section, {})
            if section == "loops":
                point = part["checkpoints"].get(key.split()[2])
                cells.append(_cell(point["completion_vs_0"]) if point else "—")
            else:
                cells.append(_cell(part[key]) if key in part else "—")
        rows.append(f"| {key.replace('_per_', ' ÷ ').replace('_', ' ')} | {goal} | " + " | ".join(cells) + " |")
    for clients in ("1", "2", "4", "8"):
        cells = []
        for db in dbs:
            level = results["databases"][db]["throughput"][clients]
            one = results["databases"][db]["throughput"]["1"]["completions_per_s"] or 1
            cells.append(f"{level['completions_per_s']:.1f}/s ({level['completions_per_s'] / one:.2f}×), "
                         f"{level['errors']} errors")
        rows.append(f"| throughput, {clients} client(s) | — | " + " | ".join(cells) + " |")
    for db in dbs:
        several = results["databases"][db].get("throughput_workers")
        if not several:
            continue
        one = several["1"]["completions_per_s"] or 1
        for clients in ("1", "2", "4", "8"):
            level = several[clients]
            cells = ["—"] * len(dbs)
            cells[dbs.index(db)] = (f"{level['completions_per_s']:.1f}/s ({level['completions_per_s'] / one:.2f}×), "
                                    f"{level['errors']} errors")
            goal = "8 ÷ 1 ≥ 1.8" if clients == "8" else "—"
            mark = " ✗" if clients == "8" and not several["ratio_8_to_1"]["meets_goal"] else ""
            rows.append(f"| throughput, 4 processes, {clients} client(s) | {goal} | " + " | ".join(cells) + mark + " |")
        race = several["race"]
        rows.append("| 8 clients racing for one task, 4 processes | one 200, seven 409 | " + " | ".join(
            str(race["statuses"]) if d == db else "—" for d in dbs) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "performance.json"
    print(table(json.loads(path.read_text(encoding="utf-8"))))

"""`make bench` keeps working: the whole bench at a tiny scale, on SQLite (and PostgreSQL when it runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import bench


def test_bench_runs_at_a_tiny_scale_and_writes_its_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KHANTON_BENCH_SCALE", "0.0001")
    monkeypatch.setenv("KHANTON_BENCH_OUT", str(tmp_path))
    bench.main()
    printed = capsys.readouterr().out
    results = json.loads((tmp_path / "performance.json").read_text(encoding="utf-8"))
    assert (tmp_path / "performance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sqlite = results["databases"]["sqlite"]
    for section, key in [("round_trip", "http_completion_per_trivial_get"),
                         ("round_trip", "engine_completion_per_raw_commit"),
                         ("scale", "inbox_api_per_trivial_get"), ("scale", "inbox_html_per_trivial_get"),
                         ("scale", "instance_list_per_trivial_get"), ("scale", "completion_at_scale_per_at_0")]:
        figure = sqlite[section][key]
        assert figure["median"] > 0 and figure["min"] <= figure["median"] <= figure["max"], (section, key)
        assert figure["count"] >= 5 and "goal" in figure
    floor = sqlite["floor"]  # SpiffWorkflow's own step, what the completion goals cannot go below
    assert floor["spiff_step_per_raw_commit"]["median"] > 0 and floor["spiff_step_per_trivial_get"]["count"] >= 5
    loops = sqlite["loops"]
    assert set(loops["checkpoints"]) == {"0", "10"} and "10000" in loops["skipped"]
    assert loops["instance_status_after"] == "running" and loops["ready_after"] == 1
    assert set(sqlite["throughput"]) == {"1", "2", "4", "8"}
    assert all(level["errors"] == 0 and level["completions"] > 0 for level in sqlite["throughput"].values())
    assert "HTTP completion ÷ trivial authenticated GET" in printed and "skipped" in printed

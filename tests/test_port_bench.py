"""The d4 benchmark runs end to end on the reference solution, bounded, and writes its report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlcourse.port import bench as port_bench

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


def test_benchmark_writes_a_complete_report(tmp_path: Path, capsys):
    assert port_bench.main(["--impl", "solutions", "--requests", "200", "--restarts", "2", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert [phase["in_flight"] for phase in report["round_trips"]] == list(port_bench.IN_FLIGHT)
    assert all(phase["requests"] == 200 and phase["round_trips_per_s"] > 0 for phase in report["round_trips"])
    assert report["sequential_round_trips_per_s"] > 0 and report["pipelined_round_trips_per_s"] > 0
    assert len(report["restart_samples_s"]) == 2 and 0 < report["restart_median_ms"] < 10_000
    assert "round trips/s" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "written:" in capsys.readouterr().out


UNFINISHED = """
class PortServer:
    def __init__(self, model_path, **options):
        pass

    async def start(self):
        raise NotImplementedError("start: spawn the worker")
"""


def test_unfinished_drill_is_reported_not_crashed(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    package = tmp_path / "submission" / "d4_port_server"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "supervisor.py").write_text(UNFINISHED)
    args = ["--impl", str(package.parent), "--requests", "10", "--restarts", "1", "--out", str(tmp_path / "out")]
    monkeypatch.setattr(sys, "path", list(sys.path))  # loading the submission prepends its folder
    try:
        with pytest.raises(SystemExit) as exited:
            port_bench.main(args)
        assert exited.value.code == 2
    finally:
        for name in [name for name in sys.modules if name.partition(".")[0] == "d4_port_server"]:
            del sys.modules[name]
    assert "your drill d4_port_server, which is not finished yet: supervisor.py line 7" in capsys.readouterr().err

"""Benchmark check: round trips per second and restart time, measured with mlcourse.port.bench."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mlcourse.port import bench as port_bench
from mlcourse.port.penguin_model import save_model


@pytest.mark.points(1)
@pytest.mark.benchmark
def test_round_trips_and_restart_time_are_measured(drill, tmp_path: Path, report_metric):
    """Round trips per second and restart time are measured; a killed worker answers again within 2 s."""
    model_path = save_model(port_bench.trivial_model(), tmp_path / "trivial-model.json")
    result = asyncio.run(port_bench.measure(drill, model_path, requests=300, restarts=2, max_seconds=5.0))
    report = port_bench.summarise(result, drill.impl.label, in_process=0.0)
    report_metric("sequential round trips", report["sequential_round_trips_per_s"], "per s")
    report_metric("pipelined round trips", report["pipelined_round_trips_per_s"], "per s")
    report_metric("restart, death to next answer", report["restart_median_ms"], "ms")
    assert report["restart_median_ms"] < 2000, (
        f"a killed worker took {report['restart_median_ms']:.0f} ms to be replaced and answer: restart it at once"
    )

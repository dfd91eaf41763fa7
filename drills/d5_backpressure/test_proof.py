"""Checks of the proof itself: the report with every field, on the fake model; and the benchmark on the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcourse.paths import REPO_ROOT

RUN_FIELDS = {
    "rate",
    "sent",
    "statuses",
    "throughput",
    "share_429",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_send_lag_ms",
    "max_depth",
    "depth",
}


def check_report(out_dir: Path, policies: tuple[str, ...]) -> dict:
    """Every file, every policy with a capacity and runs at the same rates, and the verdict lines."""
    for name in ("report.md", "report.json", "report.png"):
        assert (out_dir / name).is_file(), f"the proof wrote no {name} in --out: write report.md, report.json, plots"
    data = json.loads((out_dir / "report.json").read_text())
    missing = {"config", "rates", "policies", "verdicts"} - data.keys()
    assert not missing, f"report.json lacks {sorted(missing)}"
    assert set(data["policies"]) == set(policies), f"report.json has policies {sorted(data['policies'])}"
    for name, policy in data["policies"].items():
        assert {"capacity", "queue_limit", "runs"} <= policy.keys(), (
            f"policy {name} lacks capacity, queue_limit or runs"
        )
        swept = [run["rate"] for run in policy["runs"]]
        assert swept == data["rates"], f"policy {name} was swept at {swept}, not the common rates {data['rates']}"
        for run in policy["runs"]:
            assert run.keys() >= RUN_FIELDS, f"a run of {name} lacks {sorted(RUN_FIELDS - run.keys())}"
            assert run["sent"] == sum(run["statuses"].values()), f"a run of {name}: sent != the status counts"
    text = " ".join(data["verdicts"])
    assert "batching cut p99 from" in text, "no verdict 'at R req/s batching cut p99 from X to Y ms'"
    assert "429s begin at" in text and "queue reaches its limit" in text, (
        "no verdict 'the queue reaches its limit at R req/s, 429s begin at R'"
    )
    markdown = (out_dir / "report.md").read_text()
    assert all(line in markdown for line in data["verdicts"]), "report.md must show the verdicts of report.json"
    return data


@pytest.mark.points(3)
def test_proof_writes_a_report_with_every_field(drill, fake_cost, tmp_path: Path):
    """The proof serves d1 with batching off and on, sweeps the same rates, and writes report.md/.json/.png."""
    policies = ("none", "window")
    data = drill.module("proof").run_proof(
        tmp_path,
        impl=drill.impl.label,
        fake=fake_cost,
        policies=policies,
        slo_p99_ms=500.0,
        focus_rate=round(1.5 * fake_cost.capacity(1), 1),
        start_rate=round(0.6 * fake_cost.capacity(1), 1),
        probe_s=1.0,
        run_s=1.0,
        queue_limit=30,
        max_rate=round(3 * fake_cost.capacity(1), 1),
        max_requests=1500,
        precision=1.0,
    )
    report = check_report(tmp_path, policies)
    assert data["verdicts"] == report["verdicts"], "run_proof must return what it wrote to report.json"
    unbatched = report["policies"]["none"]
    assert unbatched["capacity"]["rate"] and unbatched["queue_limit"] == 30, (
        f"none: capacity {unbatched['capacity']['rate']}, queue limit {unbatched['queue_limit']} (read /metrics)"
    )


@pytest.mark.points(1)
@pytest.mark.benchmark
def test_proof_on_the_real_model(drill, tmp_path: Path, report_metric):
    """The proof on the built MiniLM model: p99 at 100 req/s and capacity for each policy, measured and reported."""
    if not (REPO_ROOT / "data/models/sentiment-minilm").is_dir():
        pytest.fail("the default model is not built: run `python -m mlcourse.sentiment.build`")
    policies = drill.module("proof").POLICIES
    data = drill.module("proof").run_proof(
        tmp_path,
        impl=drill.impl.label,
        policies=policies,
        start_rate=50.0,
        probe_s=1.0,
        run_s=1.0,
        max_rate=400.0,
        max_requests=2000,
        precision=0.3,
    )
    report = check_report(tmp_path, policies)
    for name, policy in report["policies"].items():
        at_100 = next(run for run in policy["runs"] if run["rate"] == 100.0)
        report_metric(f"{name}: p99 at 100 req/s", at_100["p99_ms"], "ms")
        report_metric(f"{name}: capacity", policy["capacity"]["rate"] or 0.0, "req/s")
    assert data["policies"]["window"]["capacity"]["rate"], "the window policy sustained no rate on the real model"

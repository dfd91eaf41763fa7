"""Checks of the proof itself: the report with every field, on the fake model; and the benchmark on the real one."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest

from mlcourse.drill_commands.d5_backpressure import PROOF_QUEUE_LIMIT
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
SATURATED = 0.9  # the README's "the queue reaches its limit": a run's max_depth >= 90 % of queue_limit
NUMBER = r"(\d+(?:\.\d+)?|nan)"
BATCHING = re.compile(rf"at {NUMBER} req/s (\w+) batching (cut p99 from|did not cut p99:) {NUMBER} to {NUMBER} ms")
SATURATION = re.compile(
    rf"(\w+): the queue reaches its limit \((\d+)\) at (?:no swept rate|{NUMBER} req/s), "
    rf"429s begin at (?:no swept rate|{NUMBER} req/s)"
)
NEVER = re.compile(rf"(\w+): never saturated up to {NUMBER} req/s \(queue limit (\d+)\)")
FORMS = (
    "'at R req/s <policy> batching cut p99 from X to Y ms' (or 'did not cut p99: X to Y ms'), "
    "'<policy>: the queue reaches its limit (L) at R req/s, 429s begin at S req/s' (R or S may be 'no swept rate'), "
    "'<policy>: never saturated up to M req/s (queue limit L)'"
)


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
    check_verdicts(data)
    markdown = (out_dir / "report.md").read_text()
    assert all(line in markdown for line in data["verdicts"]), "report.md must show the verdicts of report.json"
    return data


def figure(text: str | None) -> float | None:
    return None if text is None else float(text)


def same(claimed: float | None, measured: float | None, *, tolerance: float = 1e-6) -> bool:
    """A figure of a verdict against report.json's (p99s are printed to the ms, hence a tolerance)."""
    if claimed is None or measured is None:
        return claimed is measured
    if math.isnan(claimed) or math.isnan(measured):
        return math.isnan(claimed) and math.isnan(measured)
    return abs(claimed - measured) <= tolerance


def run_of(policy: dict, rate: float, name: str) -> dict:
    run = next((run for run in policy["runs"] if run["rate"] == rate), None)
    assert run is not None, f"a verdict names {rate:g} req/s, a rate {name} was not swept at: name only swept rates"
    return run


def check_batching_verdict(data: dict, match: re.Match) -> None:
    """The rate is the README's (highest swept rate above the unbatched capacity and at most the policy's)."""
    rate, name, verb, before, after = float(match[1]), match[2], match[3], figure(match[4]), figure(match[5])
    assert name in data["policies"] and name != "none", f"verdict {match[0]!r}: no batched policy {name} ran"
    low = data["policies"]["none"]["capacity"]["rate"] or 0.0
    high = data["policies"][name]["capacity"]["rate"] or 0.0
    expected = max((r for r in data["rates"] if low < r <= high), default=data["config"]["focus_rate"])
    assert rate == expected, (
        f"verdict {match[0]!r} compares at {rate:g} req/s; the README's rate is {expected:g}: the highest swept rate "
        f"above the unbatched capacity ({low:g}) and at most {name}'s ({high:g}), a capacity of None counting as 0, "
        "or config's focus_rate (the focus rate as swept) if none is"
    )
    unbatched, batched = (
        run_of(data["policies"]["none"], rate, "none")["p99_ms"],
        run_of(data["policies"][name], rate, name)["p99_ms"],
    )
    assert same(before, unbatched, tolerance=0.5) and same(after, batched, tolerance=0.5), (
        f"verdict {match[0]!r}: report.json's runs at {rate:g} req/s have p99 {unbatched} ms (none) and {batched} ms "
        f"({name}): print the p99s of the runs you report"
    )
    cut = batched < unbatched
    assert (verb == "cut p99 from") == cut, (
        f"verdict {match[0]!r} but p99 went from {unbatched} to {batched} ms: say 'cut p99 from' only when it fell, "
        "'did not cut p99:' otherwise"
    )


def check_saturation_verdict(data: dict, match: re.Match, never: bool) -> None:
    """The rates are the lowest swept ones whose queue reached its limit and that got a 429, from the runs."""
    name, limit = match[1], int(match[3] if never else match[2])
    assert name in data["policies"], f"verdict {match[0]!r}: no policy {name} ran"
    policy = data["policies"][name]
    assert limit == policy["queue_limit"], f"verdict {match[0]!r}: {name}'s queue limit is {policy['queue_limit']}"
    runs = policy["runs"]
    full = next((r["rate"] for r in runs if r["max_depth"] >= SATURATED * limit), None)
    shed = next((r["rate"] for r in runs if r["share_429"] > 0), None)
    if never:
        assert full is None and shed is None, (
            f"verdict {match[0]!r}, yet {name}'s runs show the queue at its limit at {full} req/s and 429s from "
            f"{shed} req/s: read the runs' max_depth and share_429"
        )
        assert figure(match[2]) == max(data["rates"]), (
            f"verdict {match[0]!r}: 'never saturated up to M req/s' names the highest swept rate, {max(data['rates']):g}"
        )
        return
    claimed_full, claimed_shed = figure(match[3]), figure(match[4])
    assert claimed_full is not None or claimed_shed is not None, (
        f"verdict {match[0]!r}: when nothing saturated, say '{name}: never saturated up to M req/s (queue limit L)'"
    )
    assert same(claimed_full, full) and same(claimed_shed, shed), (
        f"verdict {match[0]!r}, but {name}'s runs first reach the queue limit ({SATURATED:.0%} of {limit}) at "
        f"{full} req/s and first get a 429 at {shed} req/s (None: at no swept rate): each figure is the lowest "
        "swept rate where it happened, or 'no swept rate'"
    )


def check_verdicts(data: dict) -> None:
    """Parse every verdict and compare its figures with report.json's own runs: no phrase is enough."""
    batched = {name for name in data["policies"] if name != "none"} if "none" in data["policies"] else set()
    said_batching, said_saturation = [], []
    for line in data["verdicts"]:
        if match := BATCHING.fullmatch(line):
            check_batching_verdict(data, match)
            said_batching.append(match[2])
        elif match := SATURATION.fullmatch(line):
            check_saturation_verdict(data, match, never=False)
            said_saturation.append(match[1])
        elif match := NEVER.fullmatch(line):
            check_saturation_verdict(data, match, never=True)
            said_saturation.append(match[1])
        else:
            raise AssertionError(
                f"verdict {line!r} is none of the README's forms (Verdicts): {FORMS}; every figure a number from "
                "report.json's runs"
            )
    assert sorted(said_batching) == sorted(batched), (
        f"batching verdicts for {sorted(said_batching)}: one per batched policy, {sorted(batched)}"
    )
    assert sorted(said_saturation) == sorted(data["policies"]), (
        f"saturation verdicts for {sorted(said_saturation)}: one per policy, {sorted(data['policies'])}"
    )


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
def test_sweep_rates_are_the_same_for_every_policy_and_clamped_to_max_rate(drill):
    """Half, once and twice each capacity and the focus rate; a rate above max_rate is clamped to it."""
    draw = random.Random()
    low = round(draw.uniform(20, 60), 1)
    high = round(low * draw.uniform(3, 5), 1)
    focus, max_rate = round(draw.uniform(low, high), 1), round(high * draw.uniform(1.2, 1.8), 1)
    capacities = {"none": low, "window": high, "adaptive": None}
    wanted = {focus, *(factor * capacity for capacity in (low, high) for factor in (0.5, 1.0, 2.0))}
    expected = sorted({round(min(rate, max_rate), 1) for rate in wanted})
    got = drill.module("proof").sweep_rates(capacities, focus, max_rate)
    assert list(got) == pytest.approx(expected, abs=0.06), (
        f"sweep_rates({capacities}, {focus}, {max_rate}) gave {got}, the README's sweep rule {expected}: half, once "
        "and twice each capacity (a policy without one adds none) and the focus rate; a rate above max_rate is "
        "clamped to max_rate; rounded to 0.1 req/s, each rate once, in increasing order"
    )


def made_up_report(draw: random.Random) -> dict:
    """report.json's layout with runs made up: the unbatched queue fills above its capacity, the batched one never.

    The batched queue limit exceeds what one run can fill (L / (rate - C) > run_s), as on a fast machine.
    """
    low = round(draw.uniform(20, 60), 1)
    high = round(low * draw.uniform(3, 5), 1)
    focus = round(draw.uniform(1.1 * low, 0.9 * high), 1)
    rates = sorted({focus, *(round(factor * capacity, 1) for capacity in (low, high) for factor in (0.5, 1.0, 2.0))})
    limits = {"none": draw.randint(10, 40), "window": int(3 * high)}
    late_fill = draw.random() < 0.5  # the first rate over capacity got 429s before a depth sample saw the limit

    def run(name: str, capacity: float, rate: float, index: int) -> dict:
        over = rate > capacity
        limit, sent = limits[name], round(rate)
        shed = round(1 - capacity / rate, 4) if over and name == "none" else 0.0
        depth = (limits[name] if name == "none" else round(capacity)) if over else draw.randint(0, 2)
        if late_fill and name == "none" and over and rate == min(r for r in rates if r > capacity):
            depth = limit // 2
        refused = round(shed * sent)
        return {
            "rate": rate,
            "duration_s": 1.0,
            "sent": sent,
            "statuses": {"200": sent - refused, **({"429": refused} if refused else {})},
            "throughput": float(sent - refused),
            "share_429": shed,
            "p50_ms": 5.0 + index,
            "p95_ms": 8.0 + index,
            "p99_ms": round(draw.uniform(10, 40) + (1000 * limit / capacity if over else 0), 1),
            "max_send_lag_ms": 1.0,
            "max_depth": depth,
            "median_depth": float(depth),
            "depth": [[0.5, depth]],
        }

    policies = {
        name: {
            "queue_limit": limits[name],
            "capacity": {"rate": capacity, "failed_rate": None, "slo_p99_ms": 250.0, "requests": 0, "probes": []},
            "runs": [run(name, capacity, rate, index) for index, rate in enumerate(rates)],
        }
        for name, capacity in (("none", low), ("window", high))
    }
    return {"config": {"focus_rate": focus, "slo_p99_ms": 250.0}, "rates": rates, "policies": policies}


@pytest.mark.points(1)
def test_verdicts_state_what_the_runs_show_and_never_saturated_when_nothing_did(drill):
    """Verdicts of made-up runs: their figures parsed and compared with the runs; 'never saturated' for the batched."""
    data = made_up_report(random.Random())
    data["verdicts"] = drill.module("report").verdicts(data)
    check_verdicts(data)
    limit = data["policies"]["window"]["queue_limit"]
    assert any(NEVER.fullmatch(line) for line in data["verdicts"]), (
        f"the window policy's queue (limit {limit}) never filled and it answered no 429 at any swept rate: its "
        f"verdict is 'window: never saturated up to {max(data['rates']):g} req/s (queue limit {limit})'"
    )


REAL_MODEL_RUN = {
    "start_rate": 50.0,
    "probe_s": 1.0,
    "run_s": 1.0,
    "queue_limit": PROOF_QUEUE_LIMIT,  # the command's: at twice a capacity C it fills in L / C s, under half of run_s above 32 req/s
    "max_rate": 3000.0,
    "max_requests": 4000,
    "precision": 0.3,
}


def check_unbatched_saturates(report: dict) -> None:
    """At twice the capacity measured in the same run, the unbatched queue fills and 429s begin."""
    unbatched = report["policies"]["none"]
    capacity, limit = unbatched["capacity"]["rate"], unbatched["queue_limit"]
    assert capacity, "the unbatched server (batching none) sustained no rate on the real model: see its probes"
    overload = max(report["rates"])
    fill_s = limit / max(overload - capacity, 1e-9)
    shed = next((run["rate"] for run in unbatched["runs"] if run["share_429"] > 0), None)
    assert overload >= 2 * capacity - 0.1 and shed is not None, (
        f"the unbatched capacity measured in this run is {capacity:g} req/s and the sweep reaches {overload:g} "
        f"req/s; at twice the capacity its queue (limit {limit}) fills in L / (rate - C) = {fill_s:.2f} s and the "
        "rest is answered 429: sweep half, once and twice each capacity (README, Sweep rule)"
    )


@pytest.mark.points(1)
@pytest.mark.benchmark
def test_proof_on_the_real_model(drill, tmp_path: Path, report_metric):
    """The proof on the built MiniLM model: p99 at 100 req/s and capacity for each policy, measured and reported.

    Rates follow from the capacities measured in this run and the queue limit is small enough to fill
    within one run at twice a capacity, so an honest proof passes on a slower or faster machine.
    """
    if not (REPO_ROOT / "data/models/sentiment-minilm").is_dir():
        pytest.fail("the default model is not built: run `python -m mlcourse.sentiment.build`")
    policies = drill.module("proof").POLICIES
    data = drill.module("proof").run_proof(tmp_path, impl=drill.impl.label, policies=policies, **REAL_MODEL_RUN)
    report = check_report(tmp_path, policies)
    for name, policy in report["policies"].items():
        at_100 = next(run for run in policy["runs"] if run["rate"] == 100.0)
        report_metric(f"{name}: p99 at 100 req/s", at_100["p99_ms"], "ms")
        report_metric(f"{name}: capacity", policy["capacity"]["rate"] or 0.0, "req/s")
    assert data["verdicts"] == report["verdicts"], "run_proof must return what it wrote to report.json"
    check_unbatched_saturates(report)

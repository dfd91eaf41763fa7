"""The Elixir half (``elixir/``), run by ``elixir``: PyPort against the ETF worker, the :httpc client against d1.

Skipped, with the reason, where ``elixir`` is not on PATH (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlcourse.api.fake_model import fake_prediction
from mlcourse.api.models import FakeCost
from mlcourse.api.process import served
from mlcourse.impl import reference_impl
from mlcourse.pipeline.misbehaving import MisbehavingServer, Policy
from mlcourse.port.elixir import SKIP_REASON, ElixirRun, elixir, port_env, run_script, run_suites, write_terms
from mlcourse.port.penguin_model import build, load_model, load_table

pytestmark = [pytest.mark.needs_elixir, pytest.mark.skipif(elixir() is None, reason=SKIP_REASON)]

TEXTS = ["I love Elixir!", "This is a waste of time", 'a "quoted" text,\nwith é and 😀 \\ and a tab\t']


def passed(run: ElixirRun) -> bool:
    return run.returncode == 0 and run.exunit_summary.endswith(" 0 failures")


def test_mini_json() -> None:
    run = run_suites(["mini_json"])
    assert passed(run), run.output


def test_py_port_predicts_survives_kill_9_restarts_and_times_out(tmp_path: Path) -> None:
    """The ExUnit suite gets rows and the Python model's predictions for them, and compares."""
    model_path = build(tmp_path / "penguins-logreg.json")
    model = load_model(model_path)
    features, _ = load_table()
    rows = [list(row) for row in features.head(60).rows()]
    expected = write_terms(
        tmp_path / "expected.etf", [(row, (p := model.predict(row))["label"], p["probabilities"]) for row in rows]
    )
    run = run_suites(["py_port"], port_env(model_path, PYPORT_EXPECTED=expected))
    assert passed(run), run.output


@pytest.mark.needs_solutions
def test_sentiment_client_against_a_served_d1(tmp_path: Path) -> None:
    """Answers, 429s under a burst, a deadline on time: one text per call at 100 ms, at most 2 waiting."""
    expected = write_terms(tmp_path / "d1.etf", [(text, *fake_prediction(text).values()) for text in TEXTS])
    with served(
        reference_impl(),
        fake=FakeCost(call_s=0.1, per_text_s=0.0),
        batching="none",
        queue_limit=2,
        log_path=tmp_path / "server.log",
    ) as server:
        run = run_suites(["sentiment_client"], {**os.environ, "D1_URL": server.url, "D1_EXPECTED": str(expected)})
    assert passed(run), run.output


def classify(url: str, deadline_ms: int, text: str) -> dict[str, Any]:
    run = run_script("classify.exs", [url, str(deadline_ms), text])
    assert run.returncode == 0, run.output
    return json.loads(run.output.strip().splitlines()[-1])


def test_the_client_waits_retry_after_on_503_and_429_by_the_servers_own_clock() -> None:
    text = TEXTS[2]
    with MisbehavingServer(Policy(retry_after_s=1)) as server:
        server.script(["503", "429", "ok"])
        answer = classify(server.url, 5_000, text)
        attempts = server.attempts_of(text)
        early = server.early_retries()
    assert answer == {**fake_prediction(text), "text": text, "elapsed_ms": answer["elapsed_ms"]}
    assert [a.behaviour for a in attempts] == ["503", "429", "ok"]
    assert early == [], f"retried before Retry-After: {early}"


def test_a_retry_after_past_the_deadline_ends_the_call_at_once() -> None:
    with MisbehavingServer(Policy(retry_after_s=1)) as server:
        server.script(["429"])
        answer = classify(server.url, 500, "in a hurry")
    assert answer["error"] == ":deadline"
    assert answer["elapsed_ms"] < 500


def test_a_slow_answer_ends_the_call_at_the_deadline() -> None:
    with MisbehavingServer(Policy(slow_s=3.0)) as server:
        server.script(["slow"])
        answer = classify(server.url, 500, "slow")
    assert answer["error"] == ":deadline"
    assert 500 <= answer["elapsed_ms"] < 900

"""Checks of the pipeline: run as a command against the misbehaving server, killed, resumed, starved."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlcourse.api.fake_model import fake_prediction
from mlcourse.api.process import free_port
from mlcourse.drill_commands.d6_hybrid_pipeline import (
    EXIT_MISCONFIGURED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from mlcourse.pipeline.misbehaving import REFUSED_TEXT, MisbehavingServer, Policy

ROWS, REFUSED_AT, CONCURRENCY = 240, 17, 6
CHAOS = Policy(p_429=0.05, p_503=0.05, p_slow=0.04, p_drop=0.04, slow_s=0.2, latency_s=0.01, retry_after_s=1)


def output_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def chaos_run(drill, tmp_path_factory, run_to_end):
    """One run of the command over 240 rows against a server that misbehaves on about 1 request in 6.

    Module-scoped (three checks grade the same run), so it writes its CSV itself. A run that fails
    (never ends, or runs out of time) is recorded, not raised: the checks that grade the server's
    record still grade it, and only the check of the command's result fails with the reason.
    """
    folder = tmp_path_factory.mktemp("chaos")
    texts = [f"I love the {i}th item" if i % 3 else f"the {i}th item was dull" for i in range(ROWS)]
    texts[REFUSED_AT] = REFUSED_TEXT
    source = folder / "input.csv"
    pl.DataFrame({"id": [f"row-{i}" for i in range(ROWS)], "text": texts}).write_csv(source)
    out = folder / "out.csv"
    result, failure = None, ""
    with MisbehavingServer(CHAOS) as server:
        command = [
            sys.executable,
            "-m",
            drill.package,
            str(source),
            "--url",
            server.url,
            "--out",
            str(out),
            "--concurrency",
            str(CONCURRENCY),
        ]
        try:
            result = run_to_end(command, drill.env(), out, ROWS, 90)
        except pytest.fail.Exception as failed:
            failure = str(failed)
    return {"result": result, "failure": failure, "out": out, "server": server, "texts": texts}


def finished(chaos_run) -> list[dict[str, str]]:
    result = chaos_run["result"]
    if result is None:
        pytest.fail(chaos_run["failure"])
    assert result.returncode == EXIT_ROWS_FAILED, (
        f"exit {result.returncode}: with one row refused by the API the command must finish and exit "
        f"{EXIT_ROWS_FAILED} (EXIT_ROWS_FAILED): {result.stderr[-1500:]}"
    )
    assert chaos_run["out"].exists(), "no output file written at --out"
    return output_rows(chaos_run["out"])


def attempted(chaos_run) -> None:
    """Every text reached the server: its record is whole, whether or not the command then ended."""
    seen = {arrival.text for arrival in chaos_run["server"].arrivals}
    missing = [text for text in chaos_run["texts"] if text not in seen]
    result = chaos_run["result"]
    why = chaos_run["failure"] or (result.stderr[-1500:] if result is not None else "")
    assert not missing, (
        f"{len(missing)} of {ROWS} texts never reached the server: read every row and send each text once it is "
        f"not yet in --out: {why}"
    )


@pytest.mark.points(3)
def test_every_row_once_with_its_answer_or_reason(chaos_run):
    """every input id appears exactly once in the output: a prediction, or the refused text's reason"""
    rows = finished(chaos_run)
    counts = Counter(row["id"] for row in rows)
    missing = [f"row-{i}" for i in range(ROWS) if counts[f"row-{i}"] == 0]
    doubled = sorted(row_id for row_id, n in counts.items() if n > 1)
    assert not missing and not doubled, f"lost ids {missing[:5]}..., duplicated ids {doubled[:5]}: each id exactly once"
    by_id = {row["id"]: row for row in rows}
    refused = by_id[f"row-{REFUSED_AT}"]
    assert refused["error"] and "422" in refused["error"] and not refused["label"], (
        f"the refused text's row must be failed with its reason (HTTP 422), got {refused}"
    )
    wrong = [
        f"row-{i}"
        for i, text in enumerate(chaos_run["texts"])
        if i != REFUSED_AT and not answers_match(by_id[f"row-{i}"], fake_prediction(text))
    ]
    assert not wrong, f"rows {wrong[:5]} do not carry the API's answer for their own text"
    refusals = chaos_run["server"].attempts_of(REFUSED_TEXT)
    assert len(refusals) == 1, f"the 422 text was sent {len(refusals)} times: never retry a 4xx other than 429"
    summary = json.loads(chaos_run["result"].stdout.strip().splitlines()[-1])
    counted = tuple(summary.get(key) for key in ("rows_in", "rows_ok", "rows_failed"))
    assert counted == (ROWS, ROWS - 1, 1) and summary.get("seconds", 0) > 0, (
        f"the last stdout line must be JSON with rows_in ({ROWS}), rows_ok ({ROWS - 1}), rows_failed (1), seconds: {summary}"
    )


def answers_match(row: dict[str, str], expected: dict) -> bool:
    try:
        return row["label"] == expected["label"] and abs(float(row["score"]) - expected["score"]) < 1e-4
    except ValueError:
        return False


@pytest.mark.points(2)
def test_in_flight_never_exceeds_concurrency(chaos_run):
    """requests in flight, counted at the server, never exceed --concurrency"""
    attempted(chaos_run)
    peak = chaos_run["server"].max_in_flight
    assert 1 <= peak <= CONCURRENCY, (
        f"the server saw {peak} requests at once with --concurrency {CONCURRENCY}: at most --concurrency requests in "
        "flight (README.md, The command)"
    )


@pytest.mark.points(2)
def test_no_retry_before_retry_after_in_the_pipeline(chaos_run):
    """no text was sent again earlier than the Retry-After of its last 429/503"""
    attempted(chaos_run)
    server = chaos_run["server"]
    refusals = [a for a in server.arrivals if a.retry_after_s]
    assert refusals, "the server sent no 429/503 with Retry-After: the check saw nothing to grade"
    early = server.early_retries()
    assert not early, (
        f"{len(early)} retries came before Retry-After (e.g. {early[0][1].arrived - early[0][0].answered:.3f} s after): "
        "send a text again only once the Retry-After of its last 429 or 503 has passed"
    )


@pytest.mark.points(2)
def test_the_reader_stops_while_the_stages_are_full(drill, run, misbehaving):
    """with a slow server, rows read but not yet written stay within the queues' bound (1,000,000-row source)"""
    pipeline, client_module = drill.module("pipeline"), drill.module("client")
    concurrency, queue_rows = 4, 16
    bound = 2 * queue_rows + concurrency + 2
    pulled, written, worst = 0, 0, 0

    def source():
        nonlocal pulled, worst
        for i in range(1_000_000):
            pulled += 1
            worst = max(worst, pulled - written)
            yield (f"row-{i}", f"text number {i}")

    def write(outcome) -> None:
        nonlocal written
        written += 1

    async def scored_for(seconds: float) -> None:
        async with client_module.SentimentClient(server.url) as client:
            task = asyncio.ensure_future(
                pipeline.score_rows(source(), client, write, concurrency=concurrency, queue_rows=queue_rows)
            )
            await asyncio.sleep(seconds)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    with misbehaving(latency_s=0.1) as server:
        run(scored_for(1.5))
    assert written > 0, "nothing was written in 1.5 s: write each outcome as it comes"
    assert worst <= bound, (
        f"the reader ran {worst} rows ahead of the writer (bound {bound} with queue_rows={queue_rows}, "
        f"concurrency={concurrency}): join the stages with bounded queues so the reader waits"
    )


ENDING_S = 5.0  # an in-process pipeline over a few dozen rows ends in milliseconds; past this it never will


class CourseClient:
    """Stands in for the learner's client: the API's answer after ``delay_s``; ``fail_on`` raises ``error``."""

    def __init__(self, delay_s: float = 0.0, fail_on: str = "", error: Exception | None = None) -> None:
        self.delay_s, self.fail_on, self.error = delay_s, fail_on, error

    async def classify(self, text: str) -> dict:
        await asyncio.sleep(self.delay_s)
        if text == self.fail_on and self.error is not None:
            raise self.error
        return fake_prediction(text)


def source_rows(n: int) -> list[tuple[str, str]]:
    return [(f"row-{i}", f"text number {i}") for i in range(n)]


async def within(awaitable, seconds: float):
    """(True, the task) once it ended (returned or raised), (False, the task) if still running after ``seconds``."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return bool(done), task


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, as a task group raises them."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


@pytest.mark.points(1)
def test_the_pipeline_ends_when_its_input_ends(drill, run):
    """score_rows returns its counts once the input has ended and every row is written (50 rows, 4 scorers)"""
    pipeline, rows = drill.module("pipeline"), source_rows(50)
    written: list[Any] = []
    ended, task = run(
        within(
            pipeline.score_rows(iter(rows), CourseClient(0.001), written.append, concurrency=4, queue_rows=8), ENDING_S
        )
    )
    assert ended, (
        f"the pipeline did not end after its input ended: {len(written)} of {len(rows)} rows written, score_rows still "
        f"running {ENDING_S:.0f} s later. After the last row, put one end marker per scorer on the rows queue, and "
        "let the writer stop once it has counted them all (notebook 08, section 5)"
    )
    counts = task.result()
    ids = sorted(outcome.id for outcome in written)
    assert ids == sorted(row_id for row_id, _ in rows) and counts.rows_ok == len(rows), (
        f"{len(ids)} outcomes written ({len(set(ids))} distinct ids), rows_ok {counts.rows_ok}: write every row once"
    )


@pytest.mark.points(1)
def test_a_failing_stage_stops_the_others(drill, run):
    """a scorer that raises (not a text's SentimentClientError) stops every stage: score_rows raises it within 5 s"""
    pipeline, rows = drill.module("pipeline"), source_rows(40)
    broken = RuntimeError("the scorer broke")
    client = CourseClient(0.001, fail_on=rows[10][1], error=broken)
    ended, task = run(within(pipeline.score_rows(iter(rows), client, lambda outcome: None, concurrency=4), ENDING_S))
    assert ended, (
        f"the pipeline did not end after a stage failed: a scorer raised {broken!r} and score_rows was still running "
        f"{ENDING_S:.0f} s later, its writer waiting for rows that will never come. Run the stages in an "
        "asyncio.TaskGroup, so that one failing stage cancels the others (notebook 08, section 5)"
    )
    error = task.exception()
    assert error is not None and broken in leaves(error), (
        f"score_rows returned {task.result()!r} although a scorer raised {broken!r}: let it out (the TaskGroup raises "
        "it inside an ExceptionGroup)"
        if error is None
        else f"score_rows raised {error!r}, not the scorer's {broken!r}: let the stage's own error out"
    )


@pytest.mark.points(1)
def test_on_row_fires_once_per_row_when_written_or_skipped(drill, run):
    """on_row() is called once per input row: after its outcome is written, or when its id is skipped; never on read"""
    pipeline, rows = drill.module("pipeline"), source_rows(30)
    skip = {"row-3", "row-7", "row-11"}
    pulled_skipped, calls, early = 0, 0, ""
    written: list[Any] = []

    def source():
        nonlocal pulled_skipped
        for row in rows:
            pulled_skipped += row[0] in skip
            yield row

    def on_row() -> None:
        nonlocal calls, early
        calls += 1
        if calls > len(written) + pulled_skipped and not early:
            early = f"call {calls} came with {len(written)} rows written and {pulled_skipped} skipped"

    coroutine = pipeline.score_rows(
        source(), CourseClient(0.005), written.append, concurrency=2, queue_rows=8, skip=skip, on_row=on_row
    )
    ended, task = run(within(coroutine, ENDING_S))  # graded on the calls made, whether or not the pipeline ends
    if ended and task.exception() is not None:
        raise task.exception()
    assert not early, f"on_row was called before its row was written ({early}): call it after write, not on read"
    assert calls == len(rows), (
        f"on_row was called {calls} times for {len(rows)} input rows ({len(skip)} of them skipped): "
        "once per input row, after its outcome is written or when its id is in skip"
    )


@pytest.mark.points(1)
def test_queue_rows_zero_is_unbounded(drill, run):
    """queue_rows=0 (--queue-rows 0) means unbounded queues: the reader is not held back (2,000 rows, slow scorers)"""
    pipeline = drill.module("pipeline")
    pulled, written = 0, list[Any]()

    def source():
        nonlocal pulled
        for row in source_rows(2000):
            pulled += 1
            yield row

    async def scored_for(seconds: float) -> None:
        coroutine = pipeline.score_rows(source(), CourseClient(0.01), written.append, concurrency=2, queue_rows=0)
        ended, task = await within(coroutine, seconds)
        if ended and task.exception() is not None:
            raise task.exception()
        assert not ended, "2,000 rows at 2 scorers of 10 ms each cannot all be written in 1 s: rows were lost"

    run(scored_for(1.0))
    assert pulled == 2000, (
        f"with queue_rows=0 the reader read {pulled} of 2,000 rows in 1 s while {len(written)} were written: "
        "queue_rows=0 means unbounded queues (asyncio.Queue(0)), so the reader is never held back"
    )


@pytest.mark.points(3)
def test_resume_after_a_kill_completes_without_duplicates(
    sentiment_csv, pipeline_command, run_pipeline, drill, misbehaving, tmp_path
):
    """SIGKILLed mid-run, then run again with the same --out: every id once, written ids not sent again"""
    source, out = sentiment_csv(400), tmp_path / "out.csv"
    with misbehaving(latency_s=0.02) as server:
        child = subprocess.Popen(
            pipeline_command(source, server.url, out, "--concurrency", "2"),
            env=drill.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up and child.poll() is None:
            if out.exists() and out.read_text().count("\n") > 60:
                break
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, "the pipeline ended before it could be killed mid-run"
        written_before = {row["id"] for row in output_rows(out) if row.get("id")}
        assert 0 < len(written_before) < 400, f"{len(written_before)} rows written before the kill: write as you go"
        server.reset()
        result = run_pipeline(source, server.url, out, "--concurrency", "2")
        resent = {a.text for a in server.arrivals}
    assert result.returncode == EXIT_OK, f"the resumed run failed (exit {result.returncode}): {result.stderr[-1500:]}"
    counts = Counter(row["id"] for row in output_rows(out))
    assert set(counts) == {f"row-{i}" for i in range(400)} and max(counts.values()) == 1, (
        f"after resuming, {400 - len(counts)} ids are missing and {sum(n > 1 for n in counts.values())} duplicated"
    )
    texts = {f"row-{i}": text for i, text in enumerate(texts_in_order(source))}
    again = [row_id for row_id in written_before if texts[row_id] in resent]
    assert not again, f"{len(again)} rows already written were sent again: skip the ids already in --out"


@pytest.mark.points(1)
def test_an_error_text_with_newlines_is_written_on_one_line(drill, tmp_path):
    """an error text with newlines in it (a server's message) is written on one line: one outcome, one line"""
    output, pipeline = drill.module("output"), drill.module("pipeline")
    path = tmp_path / "out.csv"
    reason = "RequestRejected: HTTP 500 model_failed: first line\nsecond line\r\nthird line"
    with output.ResultWriter(path) as writer:
        writer.write(pipeline.Outcome("row-0", error=reason))
        writer.write(pipeline.Outcome("row-1", label="positive", score=0.9))
    newlines = path.read_bytes().count(b"\n")
    assert newlines == 3, (
        f"a header and two outcomes took {newlines} newlines, not 3: csv.writer quotes a newline inside a field "
        "and keeps it, so a crash can cut such a row after that newline and resume keeps half of it. Write an "
        "error text on one line: each newline in it becomes a space"
    )
    rows = output_rows(path)
    kept = rows[0]["error"].split() if rows and rows[0]["id"] == "row-0" else []
    assert kept == reason.split(), f"the error text came back as {kept}: keep every word of it, {reason.split()}"


def texts_in_order(source: Path) -> list[str]:
    with source.open(newline="") as file:
        return [row["text"] for row in csv.DictReader(file)]


@pytest.mark.points(2)
def test_clear_errors_for_bad_arguments(sentiment_csv, run_pipeline, misbehaving, tmp_path):
    """a missing column or an unreachable server: non-zero exit and a message that names the problem"""
    source = sentiment_csv(5, text_column="review")
    with misbehaving() as server:
        result = run_pipeline(source, server.url, tmp_path / "a.csv")
        assert result.returncode == EXIT_USAGE and "text" in result.stderr and "Traceback" not in result.stderr, (
            f"a CSV without the text column must exit {EXIT_USAGE} (EXIT_USAGE) with a message naming it, got "
            f"exit {result.returncode}: {result.stderr[-800:]}"
        )
        result = run_pipeline(source, server.url, tmp_path / "b.csv", "--text-column", "review")
    assert result.returncode == EXIT_OK, f"--text-column review must be honoured: {result.stderr[-800:]}"
    nobody = f"http://127.0.0.1:{free_port()}"
    result = run_pipeline(source, nobody, tmp_path / "c.csv", "--text-column", "review", limit_s=45)
    assert result.returncode == EXIT_UNREACHABLE and nobody in result.stderr and "Traceback" not in result.stderr, (
        f"an unreachable server must exit {EXIT_UNREACHABLE} (EXIT_UNREACHABLE) with a message naming its URL, got "
        f"exit {result.returncode}: {result.stderr[-800:]}"
    )


@pytest.mark.points(1)
def test_the_endpoint_url_is_a_configuration_error(sentiment_csv, run_pipeline, misbehaving, tmp_path):
    """--url given as the endpoint (.../api/sentiment), not the base URL: exit 4 within 5 s, naming the URL"""
    source, out = sentiment_csv(40), tmp_path / "out.csv"
    with misbehaving() as server:
        wrong = f"{server.url}/api/sentiment"
        start = time.monotonic()
        result = run_pipeline(source, wrong, out, limit_s=30)
        took = time.monotonic() - start
    assert result.returncode == EXIT_MISCONFIGURED and wrong in result.stderr and "Traceback" not in result.stderr, (
        f"a --url that answers 404 must exit {EXIT_MISCONFIGURED} (EXIT_MISCONFIGURED) with a message naming the URL "
        f"tried and the base URL expected, got exit {result.returncode}: {result.stderr[-800:]}"
    )
    assert took < 5, f"took {took:.1f} s: a wrong URL is known from its first answer, stop there"
    scored = [row for row in output_rows(out) if row["label"] or row["error"]] if out.exists() else []
    assert not scored, f"{len(scored)} rows written with a wrong URL: a configuration error is no row's outcome"

"""Checks of PortServer (supervisor.py and client.py): crashes, hangs, concurrency, restart limits, orphans.

The fixtures (stand-in workers, process probes, a bounded ``run``) are in this folder's conftest.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mlcourse.port.stand_in_worker import NULL_REF_MESSAGE

FEATURES = [39.1, 18.7, 181.0, 3750.0]


def penguin_rows(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).normal([44.0, 17.0, 200.0, 4200.0], [5.0, 2.0, 14.0, 800.0], size=(n, 4))


@pytest.mark.points(1)
def test_predict_returns_the_models_prediction(server_for, model, run, is_running):
    """predict returns the model's prediction; worker_pid names the running worker."""

    async def scenario() -> None:
        async with server_for() as server:
            assert is_running(server.worker_pid), "worker_pid must be the pid of the running worker process"
            assert await server.predict(FEATURES) == model.predict(FEATURES), (
                "predict(features) must return the worker's prediction for those features"
            )

    run(scenario())


@pytest.mark.points(1)
def test_stop_ends_the_worker_and_later_requests_fail(server_for, errors, run, gone_within):
    """stop ends the worker, then predict raises NotRunning."""

    async def scenario() -> None:
        server = server_for()
        async with server:
            await server.predict(FEATURES)
            pid = server.worker_pid
        assert await gone_within(pid, 2.0), "stop() must end the worker process"
        with pytest.raises(errors.NotRunning):
            await server.predict(FEATURES)

    run(scenario())


@pytest.mark.points(2)
def test_1000_concurrent_requests_each_get_their_own_reply(server_for, model, run):
    """1,000 concurrent requests each get their own reply."""
    rows = penguin_rows(0, 1000)

    async def scenario() -> None:
        async with server_for(timeout=20.0) as server:
            pid = server.worker_pid
            replies = await asyncio.gather(*(server.predict(row.tolist()) for row in rows))
            assert server.worker_pid == pid, "1,000 requests in flight must not kill or restart the worker"
        wrong = sum(reply != model.predict(row.tolist()) for row, reply in zip(rows, replies, strict=True))
        assert wrong == 0, f"{wrong} of 1,000 concurrent callers got a reply that is not for their own features"

    run(scenario(), limit_s=60.0)


@pytest.mark.points(1)
def test_replies_out_of_order_are_matched_by_ref(server_for, model, run):
    """Replies out of order are matched by ref.

    The stand-in reads all 200 requests before it answers any, then answers the last first.
    """
    rows = penguin_rows(1, 200)

    async def scenario() -> None:
        async with server_for("reverse:200", timeout=10.0) as server:
            replies = await asyncio.gather(*(server.predict(row.tolist()) for row in rows))
        wrong = sum(reply != model.predict(row.tolist()) for row, reply in zip(rows, replies, strict=True))
        assert wrong == 0, f"{wrong} of 200 callers got another caller's reply: match replies to requests by ref"

    run(scenario())


@pytest.mark.points(3)
def test_worker_killed_during_a_request_fails_it_fast_and_is_replaced(server_for, errors, model, run):
    """Worker SIGKILLed during a request: WorkerCrashed within 1 s, the next request answered by a new worker."""

    async def scenario() -> None:
        async with server_for("hang", timeout=5.0) as server:
            first = server.worker_pid
            in_flight = asyncio.create_task(server.predict(FEATURES))
            await asyncio.sleep(0.3)
            os.kill(first, signal.SIGKILL)
            killed_at = time.monotonic()
            with pytest.raises(errors.WorkerCrashed):
                await in_flight
            waited = time.monotonic() - killed_at
            assert waited < 1.0, (
                f"the caller learned of the crash after {waited:.2f} s: fail the requests in flight at once"
            )
            assert await server.predict(FEATURES) == model.predict(FEATURES), (
                "the next request after a crash must be answered by a restarted worker"
            )
            assert server.worker_pid not in (None, first), "worker_pid must name the new worker after a restart"

    run(scenario())


@pytest.mark.points(3)
def test_hung_worker_times_out_at_1s_and_is_replaced(server_for, errors, model, run, gone_within):
    """Hung worker: RequestTimeout at 1 s (within 0.2 s), the worker killed and replaced."""

    async def scenario() -> None:
        async with server_for("hang") as server:  # default timeout: 1 s
            hung = server.worker_pid
            sent_at = time.monotonic()
            with pytest.raises(errors.RequestTimeout):
                await server.predict(FEATURES)
            waited = time.monotonic() - sent_at
            assert abs(waited - 1.0) <= 0.2, f"the request failed after {waited:.2f} s: honour the 1 s timeout"
            assert await gone_within(hung, 1.0), "a worker that stops answering must be killed"
            assert await server.predict(FEATURES) == model.predict(FEATURES), "...and replaced by a new worker"
            assert server.worker_pid not in (None, hung)

    run(scenario())


@pytest.mark.points(2)
def test_a_request_right_after_a_timeout_is_answered_by_the_new_worker(server_for, errors, model, run):
    """A request sent right after a timeout is answered by the new worker (not WorkerCrashed).

    The request sent at once after a RequestTimeout waits for the replacement: the killed worker gets no more.
    """

    async def scenario() -> None:
        async with server_for("hang") as server:  # default timeout: 1 s
            hung = server.worker_pid
            with pytest.raises(errors.RequestTimeout):
                await server.predict(FEATURES)
            try:
                reply = await server.predict(FEATURES, timeout=5.0)  # at once: the killed worker may not be gone yet
            except errors.PortServerError as exc:
                pytest.fail(
                    f"the request sent right after a RequestTimeout failed with {exc!r:.200}: the worker killed on a "
                    "timeout counts as gone from that moment, so no new request is sent to it; a request made while "
                    "the replacement starts waits for it (within its timeout)"
                )
            assert reply == model.predict(FEATURES), "that request must get the new worker's prediction"
            assert server.worker_pid not in (None, hung), "worker_pid must name the new worker"

    run(scenario())


@pytest.mark.points(1)
def test_an_error_reply_with_ref_null_fails_no_caller(server_for, errors, model, starts, run, caplog):
    """An error reply with ref null fails no caller and restarts nothing; it is logged as a warning."""

    async def scenario() -> tuple[int | None, int | None, list[dict]]:
        async with server_for("nullref", timeout=5.0) as server:
            pid = server.worker_pid
            replies = [await server.predict(FEATURES) for _ in range(2)]
            return pid, server.worker_pid, replies

    with caplog.at_level(logging.WARNING):
        try:
            pid, after, replies = run(scenario())
        except errors.PortServerError as exc:
            pytest.fail(
                f"after an error reply with ref null a request failed with {exc!r:.200}: an error reply whose ref is "
                "null answers no request in flight; log it as a warning and go on, it fails no caller and "
                "restarts nothing"
            )
    assert replies == [model.predict(FEATURES)] * 2, "each request must get its own prediction"
    assert after == pid and len(starts()) == 1, (
        f"an error reply with ref null restarted the worker (started {len(starts())} times): it is no crash"
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(NULL_REF_MESSAGE in message for message in warnings), (
        "an error reply with ref null reaches no caller, so log it as a warning (the logging module) with the "
        f"worker's message; the warnings logged were {warnings[:3]}"
    )


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "mode",
    ["garbage:0000000301c1c1", "garbage:000000020980", "garbage:ffffffff", "cut:0000006401"],
    ids=["malformed", "wrong-version", "oversized", "truncated"],
)
def test_bad_frame_from_the_worker_fails_the_request_not_the_parent(server_for, errors, model, mode, run):
    """A bad frame from the worker: WorkerCrashed within 1 s, the worker replaced."""

    async def scenario() -> None:
        async with server_for(mode, timeout=5.0) as server:
            first = server.worker_pid
            sent_at = time.monotonic()
            with pytest.raises(errors.WorkerCrashed):
                await server.predict(FEATURES)
            waited = time.monotonic() - sent_at
            assert waited < 1.0, f"a bad frame from the worker was noticed after {waited:.2f} s: treat it as a crash"
            assert await server.predict(FEATURES) == model.predict(FEATURES), (
                "after a bad frame the worker must be replaced and the next request answered"
            )
            assert server.worker_pid not in (None, first)

    run(scenario())


@pytest.mark.points(1)
def test_bad_requests_fail_alone(server_for, errors, model, run):
    """Bad requests fail alone (PredictionError, ProtocolError; numeric strings are not numbers), same worker."""

    async def scenario() -> None:
        async with server_for() as server:
            pid = server.worker_pid
            with pytest.raises(errors.PredictionError):
                await server.predict([1.0, 2.0])  # two features where the model takes four
            for not_numbers in (["a", "b", "c", "d"], ["39.1", "18.7", "181.0", "3750.0"], [True, 1.0, 2.0, 3.0]):
                with pytest.raises(errors.PredictionError):
                    await server.predict(not_numbers)  # features must be numbers, not strings that parse as numbers
            with pytest.raises(errors.ProtocolError):
                await server.predict([0.5] * 200_000)  # a request larger than MAX_FRAME_BYTES
            assert await server.predict(FEATURES) == model.predict(FEATURES)
            assert server.worker_pid == pid, "a bad request must fail alone, without restarting the worker"

    run(scenario())


@pytest.mark.points(2)
def test_a_huge_request_among_200_honest_ones_fails_alone(server_for, errors, model, run):
    """A 100,000-feature request among 200 honest ones fails alone; the worker's pid is unchanged.

    100,000 random features (a 0.9 MB frame, under the limit) among 200 honest requests: only it fails.
    """
    rows = penguin_rows(2, 200)
    huge = np.random.default_rng(3).normal(size=100_000).tolist()

    async def scenario() -> None:
        async with server_for(timeout=20.0) as server:
            pid = server.worker_pid
            calls = [server.predict(row.tolist()) for row in rows]
            calls.insert(100, server.predict(huge))
            replies = await asyncio.gather(*calls, return_exceptions=True)
            assert server.worker_pid == pid, (
                "a request with 100,000 features restarted the worker: the worker's error reply must not "
                "echo the request (bound the message), and a reply too large for a frame must become an error reply"
            )
        huge_reply = replies.pop(100)
        assert isinstance(huge_reply, errors.PredictionError), (
            f"the 100,000-feature request must fail alone with PredictionError, got {huge_reply!r:.200}"
        )
        assert len(str(huge_reply)) < 2000, "an error message must stay short: never echo the request"
        failed = [r for r in replies if isinstance(r, BaseException)]
        assert not failed, (
            f"{len(failed)} of 200 honest requests failed because of another caller's huge request "
            f"(first: {failed[0]!r:.200}): a bad request must fail only its own caller"
        )
        wrong = sum(reply != model.predict(row.tolist()) for row, reply in zip(rows, replies, strict=True))
        assert wrong == 0, f"{wrong} honest callers got a reply that is not for their own features"

    run(scenario(), limit_s=60.0)


@pytest.mark.points(2)
def test_restart_intensity_exceeded_gives_up_with_a_clear_error(server_for, errors, starts, run):
    """Restart intensity exceeded: 4 starts in all, then RestartIntensityExceeded at once, no restart loop."""

    async def scenario() -> None:
        async with server_for("die", max_restarts=3, restart_window=5.0) as server:
            deadline = time.monotonic() + 5.0
            while True:
                try:
                    await server.predict(FEATURES)
                except errors.RestartIntensityExceeded as exc:
                    message = str(exc)
                    break
                except (errors.WorkerCrashed, errors.RequestTimeout):
                    pass
                assert time.monotonic() < deadline, (
                    "a worker that dies at every start must end the supervisor: it died more than max_restarts "
                    "times within restart_window seconds (RestartIntensityExceeded)"
                )
            assert "restart" in message.lower(), f"the error must say the restart limit was hit, got {message!r}"
            assert len(starts()) == 4, (
                f"the worker was started {len(starts())} times with max_restarts=3: a worker that dies more than "
                "max_restarts times within restart_window seconds ends the supervisor (started once, restarted "
                "after each of the first 3 deaths)"
            )
            await asyncio.sleep(1.0)
            assert len(starts()) == 4, "after giving up the server must not restart the worker any more"
            refused_at = time.monotonic()
            with pytest.raises(errors.RestartIntensityExceeded):
                await server.predict(FEATURES)
            assert time.monotonic() - refused_at < 0.2, "after giving up, predict must fail at once"

    run(scenario())


LINGERER = """
import os, runpy, struct, sys, time
marker, package, model_path = sys.argv[1:]
if not os.path.exists(marker):  # first start: read one request, close stdout, stay alive
    open(marker, "w").close()
    (length,) = struct.unpack(">I", sys.stdin.buffer.read(4))
    sys.stdin.buffer.read(length)
    os.close(1)
    time.sleep(30)
sys.argv = [package + ".worker", model_path]
runpy.run_module(package + ".worker", run_name="__main__", alter_sys=True)
"""


@pytest.mark.points(1)
def test_a_worker_that_closes_stdout_and_lingers_counts_as_dead_at_once(
    drill, server_for, errors, model, model_path, run, tmp_path, gone_within
):
    """A worker that closes its stdout and lingers: WorkerCrashed at once, replaced, then killed after a grace period."""
    marker = tmp_path / "started"
    command = [sys.executable, "-c", LINGERER, str(marker), drill.package, str(model_path)]

    async def scenario() -> None:
        async with server_for(command=command, timeout=5.0) as server:
            first = server.worker_pid
            assert first is not None, "worker_pid must name the worker once start() returned"
            for _ in range(500):  # time only the worker's reply, not its interpreter's start
                if marker.exists():
                    break
                await asyncio.sleep(0.01)
            sent_at = time.monotonic()
            with pytest.raises(errors.WorkerCrashed):
                await server.predict(FEATURES)
            waited = time.monotonic() - sent_at
            assert waited < 0.5, (
                f"the request in flight failed {waited:.2f} s after the worker closed its stdout: the worker counts "
                "as dead the moment its stdout ends, not once its exit status is known"
            )
            assert await server.predict(FEATURES) == model.predict(FEATURES), (
                "the next request must be answered by a new worker, started without waiting for the old one's exit"
            )
            assert server.worker_pid not in (None, first), "worker_pid must name the new worker"
            assert await gone_within(first, 3.0), (
                "a worker that closed its stdout but lingers must be killed after a grace period (about a second)"
            )

    run(scenario())


BROKEN_RESTARTS = {  # the worker's argv from now on, and words that name the error its spawn raises
    "oserror": (["no-such-worker-program"], ("FileNotFoundError", "no-such-worker-program")),
    "unexpected": ([sys.executable, "-c", "\0"], ("ValueError", "null byte")),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("broken", list(BROKEN_RESTARTS))
def test_a_supervisor_that_cannot_restart_fails_every_caller_at_once(server_for, errors, run, broken):
    """A restart that raises: every caller fails at once with a PortServerError naming the cause."""
    command, cause_words = BROKEN_RESTARTS[broken]

    async def scenario() -> None:
        async with server_for(timeout=5.0) as server:
            await server.predict(FEATURES)
            server.command = command  # every restart starts self.command: this one raises in the parent
            os.kill(server.worker_pid, signal.SIGKILL)
            deadline, last = time.monotonic() + 3.0, None
            while True:
                asked_at = time.monotonic()
                try:
                    await server.predict(FEATURES)
                except errors.RequestTimeout:
                    pytest.fail(
                        "after a restart that raised, a caller waited for its timeout: a supervisor that dies of an "
                        "unexpected error (or cannot start the worker: OSError) must fail every caller at once with "
                        "a PortServerError that names the cause"
                    )
                except errors.PortServerError as exc:
                    if any(word in str(exc) for word in cause_words):
                        break
                    last = exc
                else:
                    pytest.fail("a worker answered although every restart raises: restarts must use self.command")
                assert time.monotonic() < deadline, (
                    f"3 s after a restart that raised, predict still fails with {last!r:.200}: fail every caller with "
                    f"a PortServerError that names the cause (e.g. {cause_words[0]})"
                )
            assert time.monotonic() - asked_at < 1.0, "a caller waiting for the replacement must be told at once"

    run(scenario())


ORPHAN_PARENT = """
import asyncio, sys
from {package}.supervisor import PortServer

async def main():
    server = PortServer(sys.argv[1])
    await server.start()
    await server.predict({features})
    print(server.worker_pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.points(2)
def test_no_orphan_worker_after_the_parent_is_killed(drill, model_path, run, is_running, gone_within):
    """No orphan worker after the parent is SIGKILLed."""
    code = ORPHAN_PARENT.format(package=drill.package, features=FEATURES)
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(model_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=drill.env(),
        text=True,
    )
    assert parent.stdout is not None
    ready = select.select([parent.stdout], [], [], 20.0)[0]
    line = parent.stdout.readline().strip() if ready else ""
    assert line.isdigit(), (
        "a parent process could not start a PortServer and get a prediction from it within 20 s: make start() "
        "and predict() work first (the checks above say what is missing)"
    )
    worker = int(line)
    parent.kill()
    parent.wait()
    try:
        assert run(gone_within(worker, 3.0)), (
            "the worker outlived its killed parent: it must exit when its stdin closes"
        )
    finally:
        if is_running(worker):
            os.kill(worker, signal.SIGKILL)

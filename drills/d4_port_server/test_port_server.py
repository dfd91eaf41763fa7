"""Checks of PortServer (supervisor.py and client.py): crashes, hangs, concurrency, restart limits, orphans.

Misbehaving workers are stand-ins: a small script (STAND_IN below) written to a
temporary folder and given to PortServer as its ``command``. It records each
start, misbehaves on its first start, then runs the real worker.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from mlcourse import port_errors
from mlcourse.port.penguin_model import build, load_model

FEATURES = [39.1, 18.7, 181.0, 3750.0]

STAND_IN = r'''
"""Stand-in worker written by the d4 checks: misbehaves on its first start, then runs the real worker."""
import os, runpy, struct, sys, time

import msgpack

mode, starts_file, package, model_path = sys.argv[1:5]
with open(starts_file, "a") as starts:
    starts.write(f"{os.getpid()}\n")
with open(starts_file) as starts:
    first_start = len(starts.readlines()) == 1
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer


def read_request():
    (length,) = struct.unpack(">I", stdin.read(4))
    return msgpack.unpackb(stdin.read(length)[1:])


def write(data):
    stdout.write(data)
    stdout.flush()


if mode == "die":
    sys.exit(3)
if first_start and mode == "hang":
    time.sleep(60)
if first_start and mode.startswith(("garbage:", "cut:")):
    read_request()
    write(bytes.fromhex(mode.split(":")[1]))
    if mode.startswith("cut:"):
        sys.exit(0)
    time.sleep(60)
if first_start and mode.startswith("reverse:"):  # read N requests, then answer them last first
    from mlcourse.port.penguin_model import load_model

    model = load_model(model_path)
    requests = [read_request() for _ in range(int(mode.split(":")[1]))]
    for request in reversed(requests):
        body = b"\x01" + msgpack.packb({"ref": request["ref"], "prediction": model.predict(request["features"])})
        write(struct.pack(">I", len(body)) + body)
sys.argv = [f"{package}.worker", model_path]
runpy.run_module(f"{package}.worker", run_name="__main__", alter_sys=True)
'''


def run(scenario: Coroutine[Any, Any, Any], limit: float = 30.0) -> Any:
    """Run one asyncio scenario, bounded so a broken implementation fails instead of hanging."""
    return asyncio.run(asyncio.wait_for(scenario, limit))


def is_running(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("d4-model") / "penguins-logreg.json")


@pytest.fixture(scope="module")
def model(model_path: Path):
    return load_model(model_path)


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Whatever a check started (workers, stand-ins, parents) does not outlive it."""
    yield
    children = psutil.Process().children(recursive=True)
    for child in children:
        child.kill()
    psutil.wait_procs(children, timeout=5)


@pytest.fixture
def server_for(drill, model_path: Path, tmp_path: Path) -> Callable[..., Any]:
    """``server_for(mode=None, **options)``: a PortServer on the real worker, or on a stand-in in ``mode``."""
    supervisor = drill.module("supervisor")
    script = tmp_path / "stand_in_worker.py"
    script.write_text(STAND_IN)

    def make(mode: str | None = None, **options: Any) -> Any:
        if mode is not None:
            starts_file = str(tmp_path / "starts")
            options["command"] = [sys.executable, str(script), mode, starts_file, drill.package, str(model_path)]
        return supervisor.PortServer(model_path, env=drill.env(), **options)

    return make


def starts(tmp_path: Path) -> list[int]:
    """Process ids of the stand-in workers started so far, in order."""
    file = tmp_path / "starts"
    return [int(line) for line in file.read_text().split()] if file.exists() else []


@pytest.fixture
def errors():
    return port_errors


@pytest.mark.points(1)
def test_predict_returns_the_models_prediction(server_for, model):
    async def scenario() -> None:
        server = server_for()
        await server.start()
        try:
            assert is_running(server.worker_pid), "worker_pid must be the pid of the running worker process"
            assert await server.predict(FEATURES) == model.predict(FEATURES), (
                "predict(features) must return the worker's prediction for those features"
            )
        finally:
            await server.stop()

    run(scenario())


@pytest.mark.points(1)
def test_stop_ends_the_worker_and_later_requests_fail(server_for, errors):
    async def scenario() -> None:
        server = server_for()
        await server.start()
        await server.predict(FEATURES)
        pid = server.worker_pid
        await server.stop()
        assert await gone_within(pid, 2.0), "stop() must end the worker process"
        with pytest.raises(errors.NotRunning):
            await server.predict(FEATURES)

    run(scenario())


@pytest.mark.points(2)
def test_1000_concurrent_requests_each_get_their_own_reply(server_for, model):
    rows = np.random.default_rng(0).normal([44.0, 17.0, 200.0, 4200.0], [5.0, 2.0, 14.0, 800.0], size=(1000, 4))

    async def scenario() -> None:
        server = server_for(timeout=20.0)
        await server.start()
        try:
            pid = server.worker_pid
            replies = await asyncio.gather(*(server.predict(row.tolist()) for row in rows))
            assert server.worker_pid == pid, "1,000 requests in flight must not kill or restart the worker"
        finally:
            await server.stop()
        wrong = sum(reply != model.predict(row.tolist()) for row, reply in zip(rows, replies, strict=True))
        assert wrong == 0, f"{wrong} of 1,000 concurrent callers got a reply that is not for their own features"

    run(scenario(), limit=60.0)


@pytest.mark.points(1)
def test_replies_out_of_order_are_matched_by_ref(server_for, model):
    """The stand-in reads all 200 requests before it answers any, then answers the last first."""
    rows = np.random.default_rng(1).normal([44.0, 17.0, 200.0, 4200.0], [5.0, 2.0, 14.0, 800.0], size=(200, 4))

    async def scenario() -> None:
        server = server_for("reverse:200", timeout=10.0)
        await server.start()
        try:
            replies = await asyncio.gather(*(server.predict(row.tolist()) for row in rows))
        finally:
            await server.stop()
        wrong = sum(reply != model.predict(row.tolist()) for row, reply in zip(rows, replies, strict=True))
        assert wrong == 0, f"{wrong} of 200 callers got another caller's reply: match replies to requests by ref"

    run(scenario())


@pytest.mark.points(3)
def test_worker_killed_during_a_request_fails_it_fast_and_is_replaced(server_for, errors, model):
    async def scenario() -> None:
        server = server_for("hang", timeout=5.0)
        await server.start()
        try:
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
        finally:
            await server.stop()

    run(scenario())


@pytest.mark.points(3)
def test_hung_worker_times_out_at_1s_and_is_replaced(server_for, errors, model):
    async def scenario() -> None:
        server = server_for("hang")  # default timeout: 1 s
        await server.start()
        try:
            hung = server.worker_pid
            sent_at = time.monotonic()
            with pytest.raises(errors.RequestTimeout):
                await server.predict(FEATURES)
            waited = time.monotonic() - sent_at
            assert abs(waited - 1.0) <= 0.2, f"the request failed after {waited:.2f} s: honour the 1 s timeout"
            assert await gone_within(hung, 1.0), "a worker that stops answering must be killed"
            assert await server.predict(FEATURES) == model.predict(FEATURES), "...and replaced by a new worker"
            assert server.worker_pid not in (None, hung)
        finally:
            await server.stop()

    run(scenario())


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "mode",
    ["garbage:0000000301c1c1", "garbage:000000020980", "garbage:ffffffff", "cut:0000006401"],
    ids=["malformed", "wrong-version", "oversized", "truncated"],
)
def test_bad_frame_from_the_worker_fails_the_request_not_the_parent(server_for, errors, model, mode):
    async def scenario() -> None:
        server = server_for(mode, timeout=5.0)
        await server.start()
        try:
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
        finally:
            await server.stop()

    run(scenario())


@pytest.mark.points(1)
def test_bad_requests_fail_alone(server_for, errors, model):
    async def scenario() -> None:
        server = server_for()
        await server.start()
        try:
            pid = server.worker_pid
            with pytest.raises(errors.PredictionError):
                await server.predict([1.0, 2.0])  # two features where the model takes four
            with pytest.raises(errors.PredictionError):
                await server.predict(["a", "b", "c", "d"])  # not numbers
            with pytest.raises(errors.ProtocolError):
                await server.predict([0.5] * 200_000)  # a request larger than MAX_FRAME_BYTES
            assert await server.predict(FEATURES) == model.predict(FEATURES)
            assert server.worker_pid == pid, "a bad request must fail alone, without restarting the worker"
        finally:
            await server.stop()

    run(scenario())


@pytest.mark.points(2)
def test_restart_intensity_exceeded_gives_up_with_a_clear_error(server_for, errors, tmp_path):
    async def scenario() -> None:
        server = server_for("die", max_restarts=3, restart_window=5.0)
        await server.start()
        try:
            deadline = time.monotonic() + 5.0
            while True:
                try:
                    await server.predict(FEATURES)
                except errors.RestartIntensityExceeded as exc:
                    message = str(exc)
                    break
                except (errors.WorkerCrashed, errors.RequestTimeout):
                    pass
                assert time.monotonic() < deadline, "a worker that always dies must make the server give up"
            assert "restart" in message.lower(), f"the error must say the restart limit was hit, got {message!r}"
            assert len(starts(tmp_path)) == 4, (
                f"the worker was started {len(starts(tmp_path))} times: "
                "start it once, then restart it at most max_restarts=3 times within restart_window"
            )
            await asyncio.sleep(1.0)
            assert len(starts(tmp_path)) == 4, "after giving up the server must not restart the worker any more"
            refused_at = time.monotonic()
            with pytest.raises(errors.RestartIntensityExceeded):
                await server.predict(FEATURES)
            assert time.monotonic() - refused_at < 0.2, "after giving up, predict must fail at once"
        finally:
            await server.stop()

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
def test_no_orphan_worker_after_the_parent_is_killed(drill, model_path):
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
    assert line.isdigit(), "a parent process could not start a PortServer and get a prediction from it"
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

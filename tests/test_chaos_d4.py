"""A bounded chaos run on drill d4's reference: random SIGKILLs of the worker with 50 requests in flight
(``make chaos`` kills it 100 times), and a supervisor that dies."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from mlcourse.chaos.kills import kill_workers
from mlcourse.impl import load_drill
from mlcourse.port.bench import trivial_model
from mlcourse.port.errors import PortServerError, WorkerCrashed
from mlcourse.port.penguin_model import save_model

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


@pytest.fixture(scope="module")
def drill():
    return load_drill("solutions", "d4_port_server")


def test_random_worker_kills_with_50_requests_in_flight(drill, tmp_path):
    model_path = save_model(trivial_model(), tmp_path / "trivial.json")  # no training: the restarts are under test
    tally = asyncio.run(asyncio.wait_for(kill_workers(drill, model_path, kills=4, in_flight=50, seed=7), 60))
    assert tally.kills == 4 and tally.answered > 0
    assert tally.mismatched == 0, f"{tally.mismatched} replies were for another caller's request"
    assert tally.crashed > 0, "a kill with 50 requests in flight must fail some of them with WorkerCrashed"
    assert tally.max_kill_to_error_s < 1.0, f"a caller heard of a kill after {tally.max_kill_to_error_s:.2f} s"
    assert not tally.other_errors, f"only WorkerCrashed may reach callers of a killed worker: {tally.other_errors}"
    assert tally.unretrieved == 0, f"asyncio logged {tally.unretrieved} 'Future exception was never retrieved'"
    assert not tally.orphans, f"worker processes alive after stop(): {tally.orphans}"


def test_a_supervisor_that_dies_fails_every_caller_at_once(drill, tmp_path, monkeypatch):
    model_path = save_model(trivial_model(), tmp_path / "trivial.json")
    client = drill.module("client")

    async def scenario() -> tuple[BaseException | None, float]:
        server = drill.module("supervisor").PortServer(model_path, env=drill.env(), timeout=5.0)
        await server.start()
        try:
            await server.predict([1.0])

            async def broken_spawn(*args, **kwargs):
                raise RuntimeError("an unexpected bug in the restart path")

            monkeypatch.setattr(client.WorkerClient, "spawn", broken_spawn)
            os.kill(server.worker_pid, signal.SIGKILL)
            await asyncio.sleep(0.3)
            started = time.monotonic()
            try:
                await server.predict([1.0])
                later: BaseException | None = None
            except PortServerError as error:
                later = error
            return later, time.monotonic() - started
        finally:
            await server.stop()

    later, waited = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert isinstance(later, PortServerError) and not isinstance(later, WorkerCrashed), (
        f"after the supervisor died a request must fail with a PortServerError naming it, got {later!r}"
    )
    assert "supervisor" in str(later) and waited < 0.2, f"it must fail at once ({waited:.2f} s): {later}"

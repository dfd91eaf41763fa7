"""Random SIGKILLs of drill d4's worker with requests in flight, and what the callers saw.

``in_flight`` callers keep one request each in flight without pause, every reply is compared with
the model's own prediction, and the worker is killed at random moments once its replacement is
answering. The figures: replies for the wrong request (must be 0), the longest time from a kill to
a caller's ``WorkerCrashed`` (well within 1 s), callers left without an answer, asyncio's
"never retrieved" warnings, and worker processes alive after ``stop()`` (orphans, must be 0).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from tqdm import tqdm

from mlcourse.impl import Drill
from mlcourse.port.errors import PortServerError, WorkerCrashed
from mlcourse.port.penguin_model import load_model


@dataclass
class KillTally:
    kills: int = 0
    answered: int = 0
    mismatched: int = 0
    crashed: int = 0
    other_errors: dict[str, int] = field(default_factory=dict)
    kill_to_error_s: list[float] = field(default_factory=list)
    unretrieved: int = 0
    orphans: list[int] = field(default_factory=list)
    workers: set[int] = field(default_factory=set)

    @property
    def max_kill_to_error_s(self) -> float:
        return max(self.kill_to_error_s, default=0.0)


async def caller(
    server: Any, model: Any, rng: random.Random, tally: KillTally, last_kill: list[float], stop: asyncio.Event
) -> None:
    """One request in flight at a time, back to back, each checked against the model itself."""
    while not stop.is_set():
        features = [rng.gauss(mean, 3 * scale) for mean, scale in zip(model.mean, model.scale)]
        try:
            reply = await server.predict(features)
        except WorkerCrashed:
            tally.crashed += 1
            tally.kill_to_error_s.append(time.monotonic() - last_kill[0])
            await asyncio.sleep(0)  # an implementation that fails without awaiting must not starve the loop
            continue
        except PortServerError as error:
            name = type(error).__name__
            tally.other_errors[name] = tally.other_errors.get(name, 0) + 1
            await asyncio.sleep(0.01)
            continue
        tally.answered += 1
        tally.mismatched += reply != model.predict(features)


async def kill_workers(
    drill: Drill, model_path: Path, *, kills: int, in_flight: int = 50, seed: int = 0, progress: bool = False
) -> KillTally:
    """Kill the worker ``kills`` times while ``in_flight`` callers keep it busy; stop; count orphans."""
    rng, tally, last_kill, stop = random.Random(seed), KillTally(), [time.monotonic()], asyncio.Event()
    loop = asyncio.get_running_loop()
    default_handler = loop.get_exception_handler()

    def count_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        tally.unretrieved += "never retrieved" in context.get("message", "")
        loop.default_exception_handler(context)

    loop.set_exception_handler(count_unretrieved)
    model = load_model(model_path)
    server = drill.module("supervisor").PortServer(
        model_path, env=drill.env(), timeout=5.0, max_restarts=kills + 1, restart_window=1.0
    )
    await server.start()
    callers = [
        asyncio.create_task(caller(server, model, random.Random(rng.random()), tally, last_kill, stop))
        for _ in range(in_flight)
    ]
    try:
        pid = None
        for _ in tqdm(range(kills), desc="worker kills", disable=not progress):
            pid = await answering_worker(server, tally, killed=pid)
            await asyncio.sleep(rng.uniform(0.02, 0.2))  # requests are in flight now
            last_kill[0] = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            tally.kills += 1
        await answering_worker(server, tally, killed=pid)
    finally:
        stop.set()
        await asyncio.wait(callers, timeout=10)
        await server.stop()
        loop.set_exception_handler(default_handler)
    await asyncio.sleep(0.5)
    tally.orphans = [pid for pid in tally.workers if alive(pid)]
    return tally


async def answering_worker(server: Any, tally: KillTally, killed: int | None, timeout_s: float = 10.0) -> int:
    """The pid of a worker, not the one just ``killed``, that has answered (so the kill meets requests in flight)."""
    deadline = time.monotonic() + timeout_s
    while server.worker_pid in (None, killed):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no new worker within {timeout_s} s")
        await asyncio.sleep(0.01)
    answered = tally.answered
    while tally.answered <= answered:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no worker answered within {timeout_s} s")
        await asyncio.sleep(0.01)
    tally.workers.add(server.worker_pid)
    tally.workers.update(child.pid for child in psutil.Process().children())  # workers that died before answering
    return server.worker_pid


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

"""Queue depth over time: poll the server's ``/metrics`` while a load test runs.

Little's law says a queue's mean length is its arrival rate times the mean wait; sampling the
depth during a run shows when a queue stays near empty, when it saturates at its limit, and how
fast it gets there. Polling is cheap (one small GET every ``every_s``) and bounded by ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp

from mlcourse.loadtest.generator import loopback_client


@dataclass(frozen=True)
class DepthSample:
    at_s: float  # seconds since sampling began
    depth: int  # the server's queue_depth then


async def sample_queue_depth(base_url: str, stop: asyncio.Event, *, every_s: float = 0.05) -> list[DepthSample]:
    """Read ``queue_depth`` from ``base_url/metrics`` every ``every_s`` until ``stop`` is set.

    A poll that fails or times out is skipped, not fatal: under overload /metrics may be slow too,
    and the load test must still finish.
    """
    samples: list[DepthSample] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with loopback_client(base_url, max_connections=1, timeout_s=max(every_s * 4, 0.5)) as client:
        while not stop.is_set():
            try:
                async with client.get("/metrics") as response:
                    depth = int((await response.json())["queue_depth"])
                samples.append(DepthSample(round(loop.time() - start, 3), depth))
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
                pass
            with contextlib.suppress(TimeoutError):  # the next sample is due
                await asyncio.wait_for(stop.wait(), every_s)
    return samples

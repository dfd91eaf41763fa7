"""A closed-loop client: the lesson on coordinated omission (notebook 07), and saturation for a capacity.

Never measure latency with it; ``efficiency`` uses it only to keep a server's queue full.

Each of ``concurrency`` workers sends, waits for the answer, then sends again at its next slot
(at most ``rate / concurrency`` per second each, like many benchmark tools with a rate limit). When
the server stalls, the workers stall with it: they send nothing meanwhile, so the requests that
*would* have queued are never sent, and the one slow answer per worker is all the stall costs in
the percentiles. Latency is counted from each actual send, as such tools do.
"""

from __future__ import annotations

import asyncio

from mlcourse.loadtest.generator import NO_ANSWER, LoadResult, Send


async def run_closed_loop(
    send: Send, *, rate: float, duration_s: float, concurrency: int = 1, timeout_s: float = 10.0
) -> LoadResult:
    """Closed-loop load for ``duration_s`` at most ``rate`` per second; due times are the actual sends."""
    if rate <= 0 or duration_s <= 0 or concurrency < 1:
        raise ValueError("rate, duration_s and concurrency must be positive")
    result = LoadResult(rate=rate, duration_s=duration_s)
    loop = asyncio.get_running_loop()
    start = loop.time()
    interval = concurrency / rate
    counter = iter(range(10**9))

    async def worker(offset: float) -> None:
        next_slot = start + offset
        while next_slot < start + duration_s:
            await asyncio.sleep(max(0.0, next_slot - loop.time()))
            sent = loop.time()
            status = NO_ANSWER
            try:
                async with asyncio.timeout(timeout_s):
                    status = await send(next(counter))
            except Exception as error:  # noqa: BLE001 (an outcome, counted by name, not a crash)
                result.errors[type(error).__name__] += 1
            result.due_s.append(sent - start)
            result.latency_s.append(loop.time() - sent)
            result.status.append(status)
            next_slot = max(next_slot + interval, loop.time())  # never catches up: the omission

    await asyncio.gather(*(worker(i * interval / concurrency) for i in range(concurrency)))
    result.wall_s = loop.time() - start
    return result

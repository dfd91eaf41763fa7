"""Open-loop load: requests leave on a fixed schedule, whether or not earlier ones were answered.

A closed-loop client (send, wait, send again) slows down when the server slows down, so it
never sees the queue it would have built: *coordinated omission*. Here request ``i`` is due at
``i / rate`` seconds, is sent then even if hundreds are outstanding, and its latency counts
from that due time, so time the generator itself lost is charged to the server, never hidden.

Bounded: ``rate * duration_s`` requests at most (and never more than ``max_requests``), each
given ``timeout_s`` to answer; HTTP targets must be on loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import numpy as np

NO_ANSWER = 0  # status recorded for a request that timed out or failed in transport

SAMPLE_TEXTS = (
    "I love this airline, the crew was so friendly!",
    "My flight was delayed three hours and nobody told us anything.",
    "Driverless cars are going to make the roads so much safer.",
    "Lost my luggage again. Worst service ever.",
    "What a great game last night, best comeback of the season",
    "The app keeps crashing every time I try to check in",
    "Honestly the new update is pretty nice, works fast",
    "I would never trust a car without a driver, too scary",
    "Thanks for the upgrade, made my whole week!",
    "Cancelled flight, no hotel, no food vouchers. Terrible.",
    "Can't wait for the weekend trip, so excited",
    "This is the third time my order arrived broken",
    "Loving the sunshine today, perfect for a walk",
    "The customer support line put me on hold for an hour",
    "Great job team, the launch went perfectly",
    "I am so disappointed with how this was handled",
)

Send = Callable[[int], Awaitable[int]]  # request number -> HTTP status (raise on transport failure)


@dataclass
class LoadResult:
    """Per-request outcome of one open-loop run, aligned by request number."""

    rate: float
    duration_s: float
    due_s: list[float] = field(default_factory=list)  # when each request was due, from the start
    latency_s: list[float] = field(default_factory=list)  # answer time minus due time
    status: list[int] = field(default_factory=list)  # HTTP status, NO_ANSWER for timeout/transport error
    errors: Counter[str] = field(default_factory=Counter)  # exception name -> count, for NO_ANSWER
    max_send_lag_s: float = 0.0  # how late the generator sent its latest request: its own health
    wall_s: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.status)

    def status_counts(self) -> dict[str, int]:
        return {str(code): n for code, n in sorted(Counter(self.status).items())}

    def share(self, status: int) -> float:
        return self.status.count(status) / self.sent if self.sent else 0.0

    def percentiles_ms(self, statuses: Sequence[int] | None = (200,)) -> dict[str, float]:
        """p50/p95/p99/max latency in ms of the requests with these statuses (``None``: every request).

        A request that got no answer counts at its timeout: it waited at least that long.
        """
        chosen = [lat for lat, code in zip(self.latency_s, self.status) if statuses is None or code in statuses]
        if not chosen:
            return {"p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}
        values = np.percentile(np.array(chosen) * 1000, [50, 95, 99, 100])
        return dict(zip(("p50", "p95", "p99", "max"), (round(float(v), 1) for v in values)))

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "sent": self.sent,
            "achieved_rate": round(self.sent / self.duration_s, 1) if self.duration_s else 0.0,
            "statuses": self.status_counts(),
            "share_429": round(self.share(429), 4),
            "latency_ms_200": self.percentiles_ms((200,)),
            "latency_ms_all": self.percentiles_ms(None),
            "errors": dict(self.errors),
            "max_send_lag_ms": round(self.max_send_lag_s * 1000, 1),
            "wall_s": round(self.wall_s, 2),
        }


async def run_open_loop(
    send: Send,
    *,
    rate: float,
    duration_s: float,
    timeout_s: float = 10.0,
    max_requests: int = 50_000,
) -> LoadResult:
    """Call ``send(i)`` at ``t = i / rate`` for ``duration_s`` seconds; wait for the stragglers
    at most ``timeout_s``. Returns every request's due time, latency and status."""
    if rate <= 0 or duration_s <= 0:
        raise ValueError("rate and duration_s must be positive")
    count = min(int(rate * duration_s), max_requests)
    result = LoadResult(rate=rate, duration_s=duration_s)
    result.due_s = [i / rate for i in range(count)]
    result.latency_s = [math.nan] * count
    result.status = [NO_ANSWER] * count
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(i: int) -> None:
        due = start + result.due_s[i]
        try:
            async with asyncio.timeout(timeout_s):
                result.status[i] = await send(i)
        except Exception as error:  # noqa: BLE001 (timeouts and transport errors are outcomes, counted by name)
            result.errors[type(error).__name__] += 1
        result.latency_s[i] = loop.time() - due

    tasks = []
    for i in range(count):
        delay = start + result.due_s[i] - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            result.max_send_lag_s = max(result.max_send_lag_s, -delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    result.wall_s = loop.time() - start
    return result


def require_loopback(url: str) -> None:
    """Refuse to aim load anywhere but this machine."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"load is only sent to loopback (127.0.0.1, ::1, localhost), not {host!r}")


def loopback_client(base_url: str, *, max_connections: int = 0, timeout_s: float = 30.0) -> aiohttp.ClientSession:
    """An aiohttp session for load on ``base_url`` (loopback only); ``max_connections`` 0 means no cap.

    aiohttp, not httpx: httpx's pool does work proportional to the requests in flight for every
    request, so against an endpoint that answers at once it fell behind below 200 req/s on 2 cores,
    where this session keeps a 1,600 req/s schedule (``python -m mlcourse.loadtest.efficiency``).
    A load generator must be far faster than what it measures. Use it as ``async with``.
    """
    require_loopback(base_url)
    return aiohttp.ClientSession(
        base_url, connector=aiohttp.TCPConnector(limit=max_connections), timeout=aiohttp.ClientTimeout(total=timeout_s)
    )


async def open_connections(client: aiohttp.ClientSession, count: int, path: str = "/healthz") -> None:
    """Open ``count`` keep-alive connections before the clock starts (``count`` GETs at once): a fresh
    connection costs the first requests tens of ms on a busy machine, an outlier a short run would call its p99."""

    async def get() -> None:
        async with client.get(path) as response:
            await response.read()

    await asyncio.gather(*(get() for _ in range(count)))


def distinct_text(texts: Sequence[str], i: int) -> str:
    """Request ``i``'s text: a sample text made unique by the request's number (a few tokens longer)."""
    return f"{texts[i % len(texts)]} (message {i})"


def sentiment_sender(
    client: aiohttp.ClientSession, texts: Sequence[str] = SAMPLE_TEXTS, path: str = "/api/sentiment"
) -> Send:
    """A ``send`` that posts request ``i``'s own text (``distinct_text``) and reads the whole answer.

    Every request carries a text no other request carries, so a response cache cannot stand in
    for batching: each answer costs the model a real slot.
    """

    async def send(i: int) -> int:
        async with client.post(path, json={"text": distinct_text(texts, i)}) as response:
            await response.read()
            return response.status

    return send


async def load_http(
    base_url: str,
    *,
    rate: float,
    duration_s: float,
    timeout_s: float = 10.0,
    texts: Sequence[str] = SAMPLE_TEXTS,
    connections: int = 8,
) -> LoadResult:
    """Open-loop load of POST /api/sentiment on a loopback server, ``connections`` opened beforehand."""
    async with loopback_client(base_url) as client:
        await open_connections(client, connections)
        return await run_open_loop(
            sentiment_sender(client, texts), rate=rate, duration_s=duration_s, timeout_s=timeout_s
        )

"""A fake sentiment API on loopback that misbehaves on purpose, and records what it saw.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) to be driven by any client,
and it misbehaves the ways a real model service does: 429 and 503 with ``Retry-After``, 503
without it, slow answers, connections dropped without an answer, and one text it always refuses
with 422 (and, when scripted, 500, 502 and 504). What it does to each request is either scripted
(``script([...])``, consumed in arrival order: for checks of the client, one behaviour at a time)
or drawn from a seeded policy per (text, attempt), so a run is reproducible and every text
succeeds within a few attempts.

It is written on raw asyncio streams rather than a web framework because a framework will not
drop a connection on request, and because the checks need the server's own record: how many
requests were in flight at once, how many connections were opened, and when each request
arrived and was answered (to prove a retry came no earlier than ``Retry-After``). It runs its
event loop in a thread of the calling process, on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Self

from mlcourse.api.fake_model import fake_prediction

BEHAVIOURS = ("ok", "429", "503", "503-bare", "slow", "drop", "422", "500", "502", "504")
SERVER_ERRORS = ("500", "502", "504")  # scripted only: the model failed on this text, or a proxy in front did
REASONS = {
    200: "OK",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
REFUSED_TEXT = "this text is always refused"


@dataclass(frozen=True)
class Policy:
    """What the server does when no script says otherwise; the draw is seeded per (text, attempt)."""

    p_429: float = 0.0
    p_503: float = 0.0
    p_slow: float = 0.0
    p_drop: float = 0.0
    retry_after_s: int = 1  # RFC 9110 delay-seconds: a whole number
    slow_s: float = 0.5  # a "slow" answer takes this long
    latency_s: float = 0.0  # every answer takes at least this long (a slow model)
    misbehave_attempts: int = 2  # attempts of one text that may misbehave; the next one is answered
    seed: int = 0
    refused_text: str = REFUSED_TEXT  # always 422, on every attempt

    def behaviour(self, text: str, attempt: int) -> str:
        if text == self.refused_text:
            return "422"
        if attempt >= self.misbehave_attempts:
            return "ok"
        draw = random.Random(f"{self.seed}:{attempt}:{text}").random()
        for name, p in (("429", self.p_429), ("503", self.p_503), ("slow", self.p_slow), ("drop", self.p_drop)):
            if draw < p:
                return name
            draw -= p
        return "ok"


@dataclass(frozen=True)
class Arrival:
    """One request as the server saw it: times are ``time.monotonic()`` (one clock for every process)."""

    text: str
    attempt: int
    behaviour: str
    arrived: float
    answered: float | None  # None when dropped
    retry_after_s: int | None


@dataclass
class MisbehavingServer:
    """``with MisbehavingServer(Policy(p_429=0.1)) as server: ... server.url``; then read its record."""

    policy: Policy = field(default_factory=Policy)
    arrivals: list[Arrival] = field(default_factory=list, init=False)
    connections: int = field(default=0, init=False)
    in_flight: int = field(default=0, init=False)
    max_in_flight: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._script: deque[str] = deque()
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, behaviours: list[str]) -> None:
        """The next requests get these behaviours, in arrival order; then the policy decides again."""
        unknown = set(behaviours) - set(BEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown behaviours {sorted(unknown)}; choose from {BEHAVIOURS}")
        with self._lock:
            self._script.extend(behaviours)

    def reset(self) -> None:
        """Forget the record and the attempt counts (between phases of a check)."""
        with self._lock:
            self.arrivals.clear()
            self._attempts.clear()
            self._script.clear()
            self.connections = self.max_in_flight = 0

    def attempts_of(self, text: str) -> list[Arrival]:
        with self._lock:
            return [arrival for arrival in self.arrivals if arrival.text == text]

    def early_retries(self, tolerance_s: float = 0.005) -> list[tuple[Arrival, Arrival]]:
        """Pairs (a refusal with Retry-After, the same text's next attempt) that came too soon."""
        with self._lock:
            arrivals = sorted(self.arrivals, key=lambda a: a.arrived)
        last: dict[str, Arrival] = {}
        early = []
        for arrival in arrivals:
            before = last.get(arrival.text)
            if (
                before is not None
                and before.retry_after_s
                and before.answered is not None
                and arrival.arrived < before.answered + before.retry_after_s - tolerance_s
            ):
                early.append((before, arrival))
            last[arrival.text] = arrival
        return early

    # -- running ---------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="misbehaving-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the misbehaving server did not start within 10 s")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            handlers = asyncio.all_tasks(self._loop)
            for task in handlers:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*handlers, return_exceptions=True))
            self._loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.transport.abort()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request, answer it (or drop the connection); False when the connection is done."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines if ":" in h)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if method == "GET" and path == "/healthz":
            await self._send(writer, 200, {"status": "ready"})
            return True
        if method != "POST" or path != "/api/sentiment":
            await self._send(writer, 404, {"error": {"code": "not_found", "message": f"no route {method} {path}"}})
            return True
        return await self._sentiment(body, writer)

    async def _sentiment(self, body: bytes, writer: asyncio.StreamWriter) -> bool:
        arrived = time.monotonic()
        try:
            text = json.loads(body)["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            await self._send(writer, 422, {"error": {"code": "invalid_body", "message": 'send {"text": "..."}'}})
            return True
        with self._lock:
            attempt = self._attempts[text]
            self._attempts[text] += 1
            behaviour = self._script.popleft() if self._script else self.policy.behaviour(text, attempt)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        retry_after = self.policy.retry_after_s if behaviour in ("429", "503") else None
        try:
            await asyncio.sleep(self.policy.latency_s + (self.policy.slow_s if behaviour == "slow" else 0.0))
            answered = time.monotonic()  # before the answer leaves: the client cannot have it earlier
            with self._lock:  # recorded before answering, so whoever got the answer finds it in the record
                self.arrivals.append(
                    Arrival(text, attempt, behaviour, arrived, None if behaviour == "drop" else answered, retry_after)
                )
            if behaviour == "drop":
                writer.transport.abort()
                return False
            if retry_after is not None:
                code = "queue_full" if behaviour == "429" else "model_loading"
                await self._send(
                    writer,
                    int(behaviour),
                    {"error": {"code": code, "message": "try again later"}},
                    {"Retry-After": str(retry_after)},
                )
            elif behaviour == "503-bare":
                await self._send(writer, 503, {"error": {"code": "unavailable", "message": "try again later"}})
            elif behaviour in SERVER_ERRORS:
                await self._send(writer, int(behaviour), {"error": {"code": "server_error", "message": "failed"}})
            elif behaviour == "422":
                await self._send(
                    writer, 422, {"error": {"code": "refused_text", "message": "this text is refused by the model"}}
                )
            else:
                await self._send(writer, 200, fake_prediction(text))
        finally:
            with self._lock:
                self.in_flight -= 1
        return True

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

"""A stand-in server whose latency is known in advance, to test load tests (not models) against.

    python -m mlcourse.loadtest.target --port 8001 --latency-ms 10 --slow-ms 120 --slow-every 10
    python -m mlcourse.loadtest.target --port 8001 --stall-after-s 1 --stall-ms 1000
    python -m mlcourse.loadtest.target --port 8001 --service-ms 20 --queue-limit 50

``POST /api/sentiment`` answers after ``--latency-ms``, every ``--slow-every``-th arrival after
``--slow-ms`` instead, and once, ``--stall-after-s`` after the first request, the whole server
stalls for ``--stall-ms``: every request that arrives meanwhile is held until the stall ends (a
garbage-collection pause, a page fault storm). With no delay it is the endpoint that answers at
once, against which a load generator's own ceiling is measured. With ``--service-ms`` it is a
single-server queue instead (one request served at a time, first come first served, 429 beyond
``--queue-limit`` waiting; 0: unbounded), the textbook model of a saturating server. ``GET /arrivals`` lists when each
request arrived (seconds after the first), so a check counts at the server what a client sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from mlcourse.api.process import free_port, start_child
from mlcourse.paths import BUILD_DIR


@dataclass
class KnownLatencyApp:
    """A raw ASGI app (no framework: its own overhead should be as small as it can be)."""

    latency_s: float = 0.0
    slow_s: float = 0.0
    slow_every: int = 0
    stall_after_s: float | None = None
    stall_s: float = 0.0
    service_s: float = 0.0  # > 0: one request at a time, each taking this long
    queue_limit: int = 0  # with service_s: 429 when this many wait (0: unbounded)
    waiting: int = 0
    _busy_until: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    _first: float | None = None
    _stall_end: float | None = None

    def delay(self, now: float) -> float:
        """How long the request arriving ``now`` (monotonic) waits before its answer."""
        if self._first is None:
            self._first = now
        self.arrivals.append(now - self._first)
        if self.stall_after_s is not None and self._stall_end is None and now - self._first >= self.stall_after_s:
            self._stall_end = now + self.stall_s
        if self._stall_end is not None and now < self._stall_end:
            return self._stall_end - now
        slow = self.slow_every > 0 and len(self.arrivals) % self.slow_every == 0
        return self.slow_s if slow else self.latency_s

    async def serve_in_turn(self) -> None:
        """Wait for the requests ahead (counted in ``waiting``), then take ``service_s``."""
        now = time.monotonic()
        start = max(now, self._busy_until)
        self._busy_until = start + self.service_s
        self.waiting += 1
        try:
            await asyncio.sleep(start - now)
        finally:
            self.waiting -= 1
        await asyncio.sleep(self.service_s)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        if path == "/api/sentiment" and scope["method"] == "POST":
            while (await receive()).get("more_body"):
                pass
            if self.service_s > 0:
                if self.queue_limit and self.waiting >= self.queue_limit:
                    await respond(send, 429, {"error": {"code": "queue_full", "message": "retry later"}})
                    return
                await self.serve_in_turn()
            else:
                self.in_flight += 1
                try:
                    wait = self.delay(time.monotonic())
                    if wait > 0:
                        await asyncio.sleep(wait)
                finally:
                    self.in_flight -= 1
            body: object = {"label": "positive", "score": 0.9}
        elif path == "/arrivals":
            body = {"arrivals_s": [round(t, 4) for t in self.arrivals]}
        elif path == "/metrics":
            body = {"queue_depth": self.waiting if self.service_s > 0 else self.in_flight, "batch_sizes": {}}
        elif path == "/healthz":
            body = {"status": "ready"}
        else:
            await respond(send, 404, {"error": {"code": "not_found", "message": path}})
            return
        await respond(send, 200, body)


async def respond(send: Any, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.loadtest.target", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--slow-ms", type=float, default=0.0)
    parser.add_argument("--slow-every", type=int, default=0, help="every N-th arrival is slow (0: none)")
    parser.add_argument("--stall-after-s", type=float, default=None, help="stall once, this long after the first")
    parser.add_argument("--stall-ms", type=float, default=0.0)
    parser.add_argument("--service-ms", type=float, default=0.0, help="serve one at a time, this long each")
    parser.add_argument("--queue-limit", type=int, default=0, help="with --service-ms: 429 beyond (0: unbounded)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = KnownLatencyApp(
        args.latency_ms / 1000,
        args.slow_ms / 1000,
        args.slow_every,
        args.stall_after_s,
        args.stall_ms / 1000,
        args.service_ms / 1000,
        args.queue_limit,
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


@contextmanager
def target_served(log_path: Path | None = None, **options: float | None) -> Iterator[str]:
    """Run the target in a child process (``options`` by Python name: ``latency_ms=10``); yield its URL."""
    port = free_port()
    command = [sys.executable, "-m", "mlcourse.loadtest.target", "--port", str(port)]
    command += [
        part
        for name, value in options.items()
        if value is not None
        for part in (f"--{name.replace('_', '-')}", str(value))
    ]
    with start_child(command, port, log_path or BUILD_DIR / "loadtest" / "target.log", ready_timeout_s=30) as child:
        yield child.url


if __name__ == "__main__":
    sys.exit(main())

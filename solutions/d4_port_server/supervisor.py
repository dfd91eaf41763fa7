"""PortServer: the graded interface. Starts, supervises and talks to the worker process.

async with PortServer("data/models/penguins-logreg.json") as server:
    prediction = await server.predict([39.1, 18.7, 181.0, 3750.0])
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from mlcourse.port.errors import NotRunning, PortServerError, RequestTimeout, RestartIntensityExceeded

from .client import WorkerClient

log = logging.getLogger(__name__)


class PortServer:
    """A model served by a supervised child process, behind the length-prefixed protocol.

    - a worker that dies is restarted; the requests it had in flight fail at once (WorkerCrashed);
    - a request with no reply within ``timeout`` seconds fails (RequestTimeout) and the worker,
      which stopped answering, is killed and replaced;
    - a worker that dies more than ``max_restarts`` times within ``restart_window`` seconds ends the
      supervisor: no more restarts, every request then fails at once with RestartIntensityExceeded
      (OTP's intensity and period);
    - a supervisor task that dies of an unexpected error closes the server: every caller fails at
      once with a PortServerError that names the cause, instead of waiting for its timeout;
    - ``command`` is the worker's argv (default: this package's worker on ``model_path``) and
      ``env`` its environment: the checks use them to start workers that misbehave on purpose.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        timeout: float = 1.0,
        max_restarts: int = 3,
        restart_window: float = 5.0,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command or [sys.executable, "-m", f"{__package__}.worker", str(model_path)])
        self.env = env
        self.timeout = timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self._worker: WorkerClient | None = None
        self._ready = asyncio.Event()  # set while a worker is up, or once the server is closed for good
        self._closed: PortServerError | None = None  # why no request will be answered any more
        self._restarts: deque[float] = deque()
        self._supervisor: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def worker_pid(self) -> int | None:
        """The process id of the worker answering requests now; None while there is none."""
        return self._worker.pid if self._worker is not None and self._ready.is_set() and not self._closed else None

    async def start(self) -> None:
        if self._supervisor is not None:
            raise RuntimeError("PortServer.start() called twice")
        self._worker = await WorkerClient.spawn(self.command, self.env, self._worker_exited)
        self._ready.set()
        self._supervisor = asyncio.create_task(self._supervise(), name="port-server-supervisor")
        self._supervisor.add_done_callback(self._supervisor_done)

    async def predict(self, features: Sequence[float], *, timeout: float | None = None) -> dict[str, Any]:
        """The worker's prediction for one row of features, or a PortServerError within ``timeout`` seconds."""
        if self._supervisor is None:
            raise NotRunning("PortServer.predict() before start()")
        timeout = self.timeout if timeout is None else timeout
        worker: WorkerClient | None = None
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()  # between a death and its restart, wait for the new worker
                if self._closed is not None:
                    raise type(self._closed)(str(self._closed))
                worker = self._worker
                assert worker is not None
                return await worker.request(features)
        except TimeoutError:
            if worker is None:
                raise RequestTimeout(f"no worker was ready within {timeout} s") from None
            self._retire(worker)  # it stopped answering: the supervisor replaces it
            raise RequestTimeout(
                f"no reply within {timeout} s; worker {worker.pid} was killed and will be replaced"
            ) from None

    async def stop(self) -> None:
        """Close the worker's stdin (it exits by itself, or is killed after a grace period); idempotent."""
        if self._supervisor is None or self._stopped:
            return
        self._stopped = True
        if self._closed is None:
            self._closed = NotRunning("PortServer was stopped")
        self._ready.set()  # release waiting callers: they see _closed
        assert self._worker is not None
        await self._worker.close()
        await asyncio.wait({self._supervisor})

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        assert self._worker is not None
        while True:
            cause = await self._worker.wait_closed()
            if self._closed is not None:
                return
            if not self._restart_allowed():
                self._closed = RestartIntensityExceeded(
                    f"the worker died {len(self._restarts)} times within {self.restart_window} s, more than "
                    f"max_restarts={self.max_restarts}: the server gave up, no more restarts. Last: {cause}"
                )
                log.error("%s", self._closed)
                self._ready.set()
                return
            log.warning("%s; restarting it", cause)
            try:
                self._worker = await WorkerClient.spawn(self.command, self.env, self._worker_exited)
            except OSError as exc:
                self._closed = PortServerError(f"cannot restart the worker {self.command}: {exc}")
                self._ready.set()
                return
            if self._closed is not None:  # stop() ran while the new worker was starting
                await self._worker.close()
                return
            self._ready.set()

    def _supervisor_done(self, task: asyncio.Task[None]) -> None:
        """A supervisor that ends with an error leaves nobody to restart workers: fail everyone now."""
        error = None if task.cancelled() else task.exception()
        if error is None or self._closed is not None:
            return
        self._closed = PortServerError(f"the supervisor failed ({type(error).__name__}: {error}); no more requests")
        log.error("%s", self._closed)
        self._ready.set()  # callers waiting for a worker see _closed at once
        if self._worker is not None:
            self._worker.kill()  # requests in flight fail with WorkerCrashed at once

    def _worker_exited(self) -> None:
        """Hold new requests back from the moment the worker is gone until its replacement is up."""
        if self._closed is None:
            self._ready.clear()

    def _retire(self, worker: WorkerClient) -> None:
        """Kill a worker that stopped answering; from now on, new requests wait for its replacement.

        Its reader notices the death only once stdout ends: until then a new request would still be
        written to the dying worker and fail with WorkerCrashed.
        """
        worker.kill()
        if worker is self._worker:
            self._worker_exited()

    def _restart_allowed(self) -> bool:
        """Record a death; False once the worker has died more than max_restarts times within restart_window."""
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and self._restarts[0] < now - self.restart_window:
            self._restarts.popleft()
        return len(self._restarts) <= self.max_restarts

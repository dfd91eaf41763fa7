"""PortServer: the graded interface. Starts, supervises and talks to the worker process.

async with PortServer("data/models/penguins-logreg.json") as server:
    prediction = await server.predict([39.1, 18.7, 181.0, 3750.0])
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self


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
        # Add the state you need: the current WorkerClient, an asyncio.Event "a worker is up",
        # the times of recent restarts, why the server no longer answers, the supervising task.

    @property
    def worker_pid(self) -> int | None:
        """The process id of the worker answering requests now; None while there is none."""
        raise NotImplementedError("worker_pid: the current worker's pid, None between a death and its restart")

    async def start(self) -> None:
        raise NotImplementedError(
            "start: spawn the first worker (WorkerClient.spawn with on_exit) and a task that supervises it; "
            "add a done callback to that task: if it ended with an exception, close the server with a "
            "PortServerError naming it, release waiting callers and kill the worker"
        )

    async def predict(self, features: Sequence[float], *, timeout: float | None = None) -> dict[str, Any]:
        """The worker's prediction for one row of features, or a PortServerError within ``timeout`` seconds."""
        raise NotImplementedError(
            "predict: within the timeout (asyncio.timeout), wait for a worker to be up, then send the request; "
            "on timeout kill that worker and raise RequestTimeout (the killed worker counts as gone at once: a "
            "request made right after waits for its replacement); after the server gave up or stopped, raise "
            "at once (RestartIntensityExceeded / NotRunning)"
        )

    async def stop(self) -> None:
        """Close the worker's stdin (it exits by itself, or is killed after a grace period); idempotent."""
        raise NotImplementedError("stop: mark the server stopped, close the worker, wait for the supervising task")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        raise NotImplementedError(
            "_supervise: replace every worker that dies, until the server stops; a worker that dies more than "
            "max_restarts times within restart_window seconds ends the supervisor (RestartIntensityExceeded)"
        )

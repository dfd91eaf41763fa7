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
        default_command = [sys.executable, "-m", f"{__package__}.worker", str(model_path)]
        self.command = list(command) if command else default_command
        self.env = env
        self.timeout = timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        # Add the state the supervisor needs to keep these promises (notebook 06, section 4).

    @property
    def worker_pid(self) -> int | None:
        """The process id of the worker answering requests now; None while there is none."""
        raise NotImplementedError(
            "worker_pid: the pid of the worker answering requests now, None while there is "
            "none. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def start(self) -> None:
        raise NotImplementedError(
            "start: start the first worker and its supervision; a supervisor that dies of an unexpected "
            "error fails every caller at once with a PortServerError that names the "
            "cause. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def predict(self, features: Sequence[float], *, timeout: float | None = None) -> dict[str, Any]:
        """The worker's prediction for one row of features, or a PortServerError within ``timeout`` seconds."""
        raise NotImplementedError(
            "predict: return the worker's prediction within timeout seconds (None: the server's timeout), or "
            "raise the PortServerError the README names for each outcome; a timeout kills the worker, which "
            "counts as gone at once. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def stop(self) -> None:
        """Close the worker's stdin (it exits by itself, or is killed after a grace period); idempotent."""
        raise NotImplementedError(
            "stop: end the worker (it exits when its stdin closes, or is killed after a grace period) and "
            "its supervision; callers then fail with NotRunning at once, those waiting for a worker "
            "included; idempotent. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        raise NotImplementedError(
            "_supervise: replace every worker that dies until the server stops; a worker that dies more than "
            "max_restarts times within restart_window seconds ends the supervisor: no more restarts, and "
            "every predict raises RestartIntensityExceeded at "
            "once. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

"""One worker process and the requests in flight to it, matched to their callers by ref."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any


class WorkerClient:
    """Writes requests to one worker's stdin and reads its replies from its stdout.

    Any number of requests may be in flight: each gets a fresh ref and a future,
    and one reader task resolves the future whose ref a reply carries. When the
    worker's stdout ends, or carries a frame that breaks the protocol, the worker
    is killed and every request still in flight fails at once with WorkerCrashed;
    the supervisor hears of it at that moment, before the exit status is known.
    """

    def __init__(self, process: asyncio.subprocess.Process, on_exit: Callable[[], None] = lambda: None) -> None:
        raise NotImplementedError(
            "WorkerClient.__init__: take charge of one running worker: its replies are read from now on, any "
            "number of requests may be in flight, and on_exit is called the moment it is "
            "gone. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    @classmethod
    async def spawn(
        cls, command: Sequence[str], env: Mapping[str, str] | None = None, on_exit: Callable[[], None] = lambda: None
    ) -> WorkerClient:
        """Start ``command`` with pipes on stdin and stdout; stderr is shared with the parent for its logs."""
        raise NotImplementedError(
            "spawn: start command (with env) as a worker whose stdin and stdout are pipes to this process "
            "and whose stderr is shared with it, and return its "
            "client. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    @property
    def pid(self) -> int:
        raise NotImplementedError(
            "pid: the worker process's id. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def request(self, features: Sequence[float]) -> dict[str, Any]:
        """Send one request and return the prediction its reply carries (no time limit: the caller sets one)."""
        raise NotImplementedError(
            "request: return the worker's prediction for features (the reply's prediction, not the whole reply), "
            "or raise: PredictionError for features that are "
            "not numbers or a request the worker refused, ProtocolError for a request over MAX_FRAME_BYTES "
            "(nothing sent), WorkerCrashed when the worker is gone or dies before it replies; asyncio never "
            "logs 'Future exception was never "
            "retrieved'. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    def kill(self) -> None:
        """SIGKILL: the reader then sees the end of stdout and fails what is in flight."""
        raise NotImplementedError(
            "kill: SIGKILL the worker; a worker already gone is no "
            "error. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def wait_closed(self) -> str:
        """Wait until the worker is gone and every request to it has failed; returns why it went."""
        raise NotImplementedError(
            "wait_closed: return why the worker went, once it is gone and every request to it has "
            "failed. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def close(self, grace: float = 1.0) -> None:
        """Close stdin so the worker exits by itself; kill it if it has not within ``grace`` seconds."""
        raise NotImplementedError(
            "close: let the worker exit by itself (the end of its stdin), and kill it if it has not within "
            "grace seconds. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

    async def _read_replies(self) -> None:
        raise NotImplementedError(
            "_read_replies: give each reply to the caller whose ref it carries (an error reply is that "
            "caller's PredictionError; one whose ref is null is logged as a warning with the worker's "
            "message); when stdout ends or breaks the protocol the worker is gone: every request in flight "
            "fails at once with WorkerCrashed and on_exit is called, before its exit status is "
            "known. Taught in notebook 06, section 4; stuck: README.md, Hints."
        )

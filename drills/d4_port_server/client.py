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
            "WorkerClient.__init__: keep the process and on_exit, a ref counter, a dict ref -> future of the "
            "requests in flight, and start the task that reads replies (asyncio.create_task)"
        )

    @classmethod
    async def spawn(
        cls, command: Sequence[str], env: Mapping[str, str] | None = None, on_exit: Callable[[], None] = lambda: None
    ) -> WorkerClient:
        """Start ``command`` with pipes on stdin and stdout; stderr is shared with the parent for its logs."""
        raise NotImplementedError("spawn: asyncio.create_subprocess_exec(*command, stdin=PIPE, stdout=PIPE, env=env)")

    @property
    def pid(self) -> int:
        raise NotImplementedError("pid: the worker process's id")

    async def request(self, features: Sequence[float]) -> dict[str, Any]:
        """Send one request and wait (without a time limit: the caller sets one) for its reply."""
        raise NotImplementedError(
            "request: features that are not numbers (numbers.Real, not bool, not a numeric string) are a "
            "PredictionError; encode {ref, features} (a ProtocolError "
            "reaches the caller before anything is sent), "
            "register a future under the ref, write the frame and drain, await the future; a broken pipe or a "
            "worker already gone is WorkerCrashed; always remove the ref when done, and if its future failed "
            "while you were writing, retrieve its exception (future.exception()) so asyncio never logs "
            "'Future exception was never retrieved'"
        )

    def kill(self) -> None:
        """SIGKILL: the reader then sees the end of stdout and fails what is in flight."""
        raise NotImplementedError("kill: process.kill(), ignoring ProcessLookupError")

    async def wait_closed(self) -> str:
        """Wait until the worker is gone and every request to it has failed; returns why it went."""
        raise NotImplementedError(
            "wait_closed: wait for an asyncio.Event the reader sets when stdout ends, and return the reason it recorded"
        )

    async def close(self, grace: float = 1.0) -> None:
        """Close stdin so the worker exits by itself; kill it if it has not within ``grace`` seconds."""
        raise NotImplementedError("close: close stdin, wait for the reader task up to grace seconds, else kill")

    async def _read_replies(self) -> None:
        raise NotImplementedError(
            "_read_replies: read payloads until the end of stdout, resolving futures by ref (an error reply "
            "is PredictionError for its caller; one whose ref is null is for no caller: log it as a warning with "
            "the worker's message, and go on); on a ProtocolError kill the worker; then AT ONCE record why it "
            "went, call on_exit, fail every request in flight with WorkerCrashed and set the stdout-ended event; "
            "only then await its exit status (kill it if it lingers after closing stdout)"
        )

"""One worker process and the requests in flight to it, matched to their callers by ref."""

from __future__ import annotations

import asyncio
import itertools
import logging
import numbers
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from mlcourse.port.errors import PredictionError, ProtocolError, WorkerCrashed

from .protocol import decode_payload, encode_frame, read_payload_async

log = logging.getLogger(__name__)


class WorkerClient:
    """Writes requests to one worker's stdin and reads its replies from its stdout.

    Any number of requests may be in flight: each gets a fresh ref and a future,
    and one reader task resolves the future whose ref a reply carries. When the
    worker's stdout ends, or carries a frame that breaks the protocol, the worker
    is killed and every request still in flight fails at once with WorkerCrashed;
    the supervisor hears of it at that moment, before the exit status is known.
    """

    def __init__(self, process: asyncio.subprocess.Process, on_exit: Callable[[], None] = lambda: None) -> None:
        self.process = process
        self._on_exit = on_exit  # called the moment the worker is known to be gone
        self._refs = itertools.count()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._gone: str | None = None  # why the worker can no longer answer, once it cannot
        self._stdout_ended = asyncio.Event()
        self._reader = asyncio.create_task(self._read_replies(), name=f"worker-{process.pid}-reader")

    @classmethod
    async def spawn(
        cls, command: Sequence[str], env: Mapping[str, str] | None = None, on_exit: Callable[[], None] = lambda: None
    ) -> WorkerClient:
        """Start ``command`` with pipes on stdin and stdout; stderr is shared with the parent for its logs."""
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
        )
        return cls(process, on_exit)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def request(self, features: Sequence[float]) -> dict[str, Any]:
        """Send one request and return the prediction its reply carries (no time limit: the caller sets one)."""
        if not all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in features):
            raise PredictionError("features must be numbers (ints or floats; not strings, not booleans)")
        values = [float(x) for x in features]
        ref = next(self._refs)
        frame = encode_frame({"ref": ref, "features": values})  # ProtocolError if too large: nothing sent
        if self._gone is not None:
            raise WorkerCrashed(self._gone)
        assert self.process.stdin is not None
        if self.process.stdin.is_closing():  # dead, and its reader has not seen the end of stdout yet
            await self._stdout_ended.wait()  # yield to the reader: it names the cause and holds new requests back
            raise WorkerCrashed(self._gone)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            self.process.stdin.write(frame)
            await self.process.stdin.drain()
            return await future
        except (BrokenPipeError, ConnectionResetError):
            await self._stdout_ended.wait()  # the reader names the cause and fails the others
            raise WorkerCrashed(self._gone) from None
        finally:
            left = self._pending.pop(ref, None)
            if left is not None and left.done() and not left.cancelled():
                left.exception()  # failed while we were writing: retrieved here, never "never retrieved"

    def kill(self) -> None:
        """SIGKILL: the reader then sees the end of stdout and fails what is in flight."""
        with suppress(ProcessLookupError):
            self.process.kill()

    async def wait_closed(self) -> str:
        """Wait until the worker is gone and every request to it has failed; returns why it went."""
        await self._stdout_ended.wait()
        assert self._gone is not None
        return self._gone

    async def close(self, grace: float = 1.0) -> None:
        """Close stdin so the worker exits by itself; kill it if it has not within ``grace`` seconds."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), grace)
        except TimeoutError:
            self.kill()
            await self._reader

    async def _read_replies(self) -> None:
        assert self.process.stdout is not None
        try:
            while (payload := await read_payload_async(self.process.stdout)) is not None:
                self._resolve(decode_payload(payload))
            cause = "closed its stdout"
        except ProtocolError as exc:
            cause = f"broke the protocol ({exc})"
            self.kill()
        in_flight = [future for future in self._pending.values() if not future.done()]
        self._gone = f"worker {self.pid} {cause}; {len(in_flight)} request(s) in flight failed"
        self._on_exit()  # at once: no new request goes to a worker whose stdout has ended
        for future in in_flight:
            future.set_exception(WorkerCrashed(self._gone))
        self._stdout_ended.set()
        status = await self._exit_status()
        log.info("worker %s exited with status %s", self.pid, status)

    async def _exit_status(self, grace: float = 1.0) -> int:
        """Wait for the worker's exit; kill it only if it lingers ``grace`` seconds after closing stdout.

        Killing first would be wrong for a worker that has already died: ``Popen.send_signal`` polls,
        and so reaps, the dead child before asyncio's child watcher sees it, which then reports 255
        instead of the real status (-9 for SIGKILL).
        """
        try:
            return await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.kill()
            return await self.process.wait()

    def _resolve(self, message: dict[str, Any]) -> None:
        ref = message.get("ref")
        future = self._pending.get(ref) if isinstance(ref, int) else None
        if "error" in message:
            error = message["error"]
            text = f"{error.get('type')}: {error.get('message')}" if isinstance(error, dict) else repr(error)
            if future is None:
                log.warning("worker %s reported an error about no request of ours: %s", self.pid, text)
            elif not future.done():
                future.set_exception(PredictionError(f"worker rejected the request: {text}"))
        elif "prediction" in message:
            if future is not None and not future.done():
                future.set_result(message["prediction"])
        else:
            raise ProtocolError(f"reply has neither 'prediction' nor 'error': {sorted(map(str, message))}")

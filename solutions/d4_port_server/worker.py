"""The child program: ``python -m <package>.worker MODEL_PATH``.

It loads the model, then answers one frame at a time from stdin on stdout until
stdin closes, which is how it learns that its parent is gone (no orphan). A
frame it cannot understand gets an error reply and the worker goes on; a stream
it cannot resynchronise (oversized or truncated frame) gets an error reply and
a clean exit with status 2. Nothing but frames is ever written to stdout.

A bad request fails only itself: error messages are bounded (they never echo a request back, so
an error reply cannot outgrow the frame limit), and a reply that cannot be encoded becomes an
error reply for its ref instead of ending the worker and every request in flight with it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from mlcourse.port.errors import ProtocolError
from mlcourse.port.penguin_model import LogisticModel, ModelFileError, load_model

from .protocol import decode_payload, encode_frame, read_payload

EXIT_BAD_STREAM = 2
MAX_ERROR_CHARS = 300  # an error message says what is wrong, it never carries the request back


def error_reply(ref: int | None, exc: Exception) -> dict[str, Any]:
    message = str(exc)
    if len(message) > MAX_ERROR_CHARS:
        message = f"{message[:MAX_ERROR_CHARS]}... ({len(message)} characters in all)"
    return {"ref": ref, "error": {"type": type(exc).__name__, "message": message}}


def is_number(value: object) -> bool:
    """An int or a float as msgpack decodes them; not a bool, not a numeric string."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def answer(model: LogisticModel, payload: bytes) -> dict[str, Any]:
    """The reply to one payload: a prediction, or an error that names the ref when there is one."""
    try:
        message = decode_payload(payload)
    except ProtocolError as exc:
        return error_reply(None, exc)
    ref = message.get("ref")
    if not isinstance(ref, int) or isinstance(ref, bool):
        return error_reply(None, ProtocolError(f"request needs an integer 'ref', got {ref!r}"))
    features = message.get("features")
    if not isinstance(features, list):
        return error_reply(ref, ProtocolError(f"request needs a list of 'features', got {type(features).__name__}"))
    if not all(is_number(x) for x in features):
        culprit = next(x for x in features if not is_number(x))
        return error_reply(ref, TypeError(f"features must be numbers, got a {type(culprit).__name__}"))
    try:
        return {"ref": ref, "prediction": model.predict(features)}
    except (TypeError, ValueError) as exc:
        return error_reply(ref, exc)


def reply_frame(reply: dict[str, Any]) -> bytes:
    """The frame of ``reply``; one too large (or not encodable) becomes an error reply for the same ref."""
    try:
        return encode_frame(reply)
    except (ProtocolError, TypeError, ValueError, OverflowError) as exc:
        ref = reply.get("ref")
        return encode_frame(error_reply(ref if isinstance(ref, int) else None, exc))


def serve(model: LogisticModel, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer frames until stdin ends; returns the exit status."""
    while True:
        try:
            payload = read_payload(stdin)
        except ProtocolError as exc:
            stdout.write(encode_frame(error_reply(None, exc)))
            stdout.flush()
            print(f"worker: {exc}; closing", file=sys.stderr)
            return EXIT_BAD_STREAM
        if payload is None:
            return 0
        stdout.write(reply_frame(answer(model, payload)))
        stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print(f"usage: python -m {__package__}.worker MODEL_PATH", file=sys.stderr)
        return 64
    # Ctrl-C in a terminal reaches the whole process group: let the parent decide, via stdin, when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must never corrupt the frame stream
    try:
        model = load_model(args[0])
    except (OSError, ModelFileError) as exc:
        print(f"worker: cannot load model: {exc}", file=sys.stderr)
        return 1
    try:
        return serve(model, sys.stdin.buffer, protocol_out)
    except BrokenPipeError:  # the parent closed our stdout: it is gone, so are we
        return 0


if __name__ == "__main__":
    sys.exit(main())

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

import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from mlcourse.port.penguin_model import LogisticModel, load_model  # load_model(path).predict(features)

EXIT_BAD_STREAM = 2
MAX_ERROR_CHARS = 300  # an error message says what is wrong, it never carries the request back


def error_reply(ref: int | None, exc: Exception) -> dict[str, Any]:
    raise NotImplementedError(
        'error_reply: {"ref": ref, "error": {"type": exception class name, "message": str(exc) cut to '
        "MAX_ERROR_CHARS}} (the model's ValueError repeats all the features: 100,000 of them outgrow a frame)"
    )


def is_number(value: object) -> bool:
    """An int or a float as msgpack decodes them; not a bool, not a numeric string."""
    raise NotImplementedError("is_number: isinstance int or float, and not a bool")


def answer(model: LogisticModel, payload: bytes) -> dict[str, Any]:
    """The reply to one payload: a prediction, or an error that names the ref when there is one."""
    raise NotImplementedError(
        "answer: decode the payload (bad frame: error reply with ref None), check the integer ref and the "
        "features list (every item a number: is_number), then {'ref': ref, 'prediction': model.predict(features)}; "
        "a ValueError from the model is an error reply carrying the ref"
    )


def reply_frame(reply: dict[str, Any]) -> bytes:
    """The frame of ``reply``; one too large (or not encodable) becomes an error reply for the same ref."""
    raise NotImplementedError(
        "reply_frame: encode_frame(reply); on ProtocolError (too large) or TypeError/ValueError/OverflowError "
        "(not encodable) return encode_frame(error_reply(reply's ref, exc)) instead"
    )


def serve(model: LogisticModel, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer frames until stdin ends; returns the exit status."""
    raise NotImplementedError(
        "serve: loop reading payloads from stdin and writing reply_frame(answer(...)) to stdout (flush each one); "
        "return 0 at the end of stdin; on an oversized or truncated frame write an error reply and return "
        "EXIT_BAD_STREAM"
    )


def main(argv: Sequence[str] | None = None) -> int:
    raise NotImplementedError(
        "main: serve the model at MODEL_PATH (argv) and return the exit status. Only frames go to stdout, even "
        "when the model prints: keep a stream for the frames, then send stray output to stderr before the model "
        "loads. If you also os.dup2(2, 1), sys.stdout.buffer writes to stderr after it: keep a duplicate of fd 1 "
        "first (notebook 06, 'A stray print on a stdout protocol')"
    )


if __name__ == "__main__":
    sys.exit(main())

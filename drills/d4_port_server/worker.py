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
        "error_reply: return the error reply for ref and exc (its type and message), the message never "
        "longer than MAX_ERROR_CHARS: an error reply never echoes the "
        "request. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def is_number(value: object) -> bool:
    """An int or a float as msgpack decodes them; not a bool, not a numeric string."""
    raise NotImplementedError(
        "is_number: true for an int or a float as msgpack decodes them; a bool or a numeric string is not a "
        "number. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def answer(model: LogisticModel, payload: bytes) -> dict[str, Any]:
    """The reply to one payload: a prediction, or an error that names the ref when there is one."""
    raise NotImplementedError(
        "answer: return the reply to one payload: the model's prediction for its ref, or an error reply (ref "
        "None for a frame it cannot read, the request's ref for a request the model "
        "refuses). Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def reply_frame(reply: dict[str, Any]) -> bytes:
    """The frame of ``reply``; one too large (or not encodable) becomes an error reply for the same ref."""
    raise NotImplementedError(
        "reply_frame: return the frame of reply; a reply too large for a frame, or one msgpack cannot "
        "encode, becomes an error reply for the same "
        "ref. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def serve(model: LogisticModel, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer frames until stdin ends; returns the exit status."""
    raise NotImplementedError(
        "serve: answer every frame on stdin with one reply frame on stdout, flushed, in order; return 0 when "
        "stdin ends, and EXIT_BAD_STREAM after an error reply for an oversized or truncated "
        "frame. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def main(argv: Sequence[str] | None = None) -> int:
    raise NotImplementedError(
        "main: serve the model at MODEL_PATH (argv) and return the exit status; only frames go to stdout, "
        "even when the model or a library "
        "prints. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


if __name__ == "__main__":
    sys.exit(main())

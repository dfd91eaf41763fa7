"""The child program: ``python -m <package>.worker MODEL_PATH``.

It loads the model, then answers one frame at a time from stdin on stdout until
stdin closes, which is how it learns that its parent is gone (no orphan). A
frame it cannot understand gets an error reply and the worker goes on; a stream
it cannot resynchronise (oversized or truncated frame) gets an error reply and
a clean exit with status 2. Nothing but frames is ever written to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from mlcourse.port.penguin_model import LogisticModel, load_model  # noqa: F401  (load_model(path).predict(features))

EXIT_BAD_STREAM = 2


def error_reply(ref: int | None, exc: Exception) -> dict[str, Any]:
    raise NotImplementedError('error_reply: {"ref": ref, "error": {"type": exception class name, "message": str(exc)}}')


def answer(model: LogisticModel, payload: bytes) -> dict[str, Any]:
    """The reply to one payload: a prediction, or an error that names the ref when there is one."""
    raise NotImplementedError(
        "answer: decode the payload (bad frame: error reply with ref None), check the integer ref and the "
        "features list, then {'ref': ref, 'prediction': model.predict(features)}; a ValueError from the "
        "model is an error reply carrying the ref"
    )


def serve(model: LogisticModel, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer frames until stdin ends; returns the exit status."""
    raise NotImplementedError(
        "serve: loop reading payloads from stdin and writing encoded replies to stdout (flush each one); "
        "return 0 at the end of stdin; on an oversized or truncated frame write an error reply and return "
        "EXIT_BAD_STREAM"
    )


def main(argv: Sequence[str] | None = None) -> int:
    raise NotImplementedError(
        "main: take MODEL_PATH from argv, keep sys.stdout.buffer for frames and point sys.stdout at stderr "
        "(a stray print must not corrupt the stream), load the model, return serve(model, stdin, stdout)"
    )


if __name__ == "__main__":
    sys.exit(main())

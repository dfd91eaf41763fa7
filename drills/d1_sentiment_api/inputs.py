"""What the API accepts: the text of a request, or an ``ApiError`` saying what is wrong.

The error shape and the limits are fixed by the drill (``mlcourse.api.contract``).
"""

from __future__ import annotations

import json

from starlette.requests import Request

from mlcourse.api.contract import MAX_BODY_BYTES, MAX_TEXT_CHARS, ApiError


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages a client understands."""
    raise NotImplementedError("json_type: name a parsed JSON value's type (a number, an array, null...) for messages")


async def read_text(request: Request) -> str:
    """The ``text`` of a ``{"text": "..."}`` JSON body, or an ApiError saying what is wrong.

    415 not JSON; 413 body over MAX_BODY_BYTES; 400 invalid JSON; 422 not an object, ``text``
    missing, not a string, blank, or over MAX_TEXT_CHARS characters.
    """
    raise NotImplementedError(
        "read_text: check the content-type, read the body in chunks up to MAX_BODY_BYTES, "
        "parse it with json.loads, then check the text; raise ApiError(status, code, message) for each problem"
    )

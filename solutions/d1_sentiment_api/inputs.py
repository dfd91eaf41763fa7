"""What the API accepts: the text of a request, or an ``ApiError`` saying what is wrong.

The error shape and the limits are fixed by the drill (``mlcourse.api.contract``). Validation
refuses what the model cannot take (text that is not encodable UTF-8, control characters) so
that it fails here, alone, with a 422, instead of failing a whole batch in the model.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata

from starlette.requests import Request

from mlcourse.api.contract import BODY_TIMEOUT_S, MAX_BODY_BYTES, MAX_TEXT_CHARS, ApiError

ALLOWED_CONTROLS = frozenset("\t\n\r")  # whitespace a person types; every other control character is refused


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages a client understands."""
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


async def read_body(request: Request, timeout_s: float) -> bytes:
    """The whole body, at most MAX_BODY_BYTES, arrived within ``timeout_s`` (408 and close otherwise)."""
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    except TimeoutError:
        raise ApiError(
            408, "body_timeout", f"the request body did not arrive within {timeout_s:g} s", {"Connection": "close"}
        ) from None
    return bytes(body)


def check_text(text: object) -> str:
    """``text`` itself if the model can take it; an ApiError (422) naming the problem otherwise."""
    if not isinstance(text, str):
        raise ApiError(422, "invalid_text", f'"text" must be a string, not {json_type(text)}')
    if not text.strip():
        raise ApiError(422, "empty_text", '"text" must not be empty')
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(422, "text_too_long", f'"text" has {len(text)} characters; the maximum is {MAX_TEXT_CHARS}')
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ApiError(
            422,
            "invalid_text",
            f'"text" is not valid Unicode: a lone surrogate at character '
            f"{error.start} (escape pairs like \\ud83d\\ude00 must come whole)",
        ) from None
    bad = next(
        (i for i, char in enumerate(text) if char not in ALLOWED_CONTROLS and unicodedata.category(char) == "Cc"), None
    )
    if bad is not None:
        raise ApiError(
            422,
            "control_character",
            f'"text" holds the control character U+{ord(text[bad]):04X} at character {bad}: send plain text',
        )
    return text


async def read_text(request: Request, timeout_s: float = BODY_TIMEOUT_S) -> str:
    """The ``text`` of a ``{"text": "..."}`` JSON body, or an ApiError saying what is wrong.

    415 not JSON; 413 body over MAX_BODY_BYTES; 408 body not arrived within ``timeout_s``; 400 invalid
    JSON (nesting too deep included); 422 not an object, ``text`` missing, not a string, blank, over
    MAX_TEXT_CHARS characters, not encodable UTF-8 or holding control characters.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send JSON with 'content-type: application/json', not {media_type or 'no content-type'!r}",
        )
    body = await read_body(request, timeout_s)
    try:
        payload = json.loads(body)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError included
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is not valid JSON here: it is nested too deeply") from None
    if not isinstance(payload, dict):
        raise ApiError(422, "invalid_body", 'the body must be a JSON object like {"text": "I love Elixir!"}')
    if "text" not in payload:
        raise ApiError(422, "missing_text", 'the field "text" is missing: send {"text": "..."}')
    return check_text(payload["text"])

"""What the API accepts: the text of a request, or an ``ApiError`` saying what is wrong.

The error shape and the limits are fixed by the drill (``mlcourse.api.contract``).
"""

from __future__ import annotations

import json

from starlette.requests import Request

from mlcourse.api.contract import MAX_BODY_BYTES, MAX_TEXT_CHARS, ApiError


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages a client understands."""
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


async def read_text(request: Request) -> str:
    """The ``text`` of a ``{"text": "..."}`` JSON body, or an ApiError saying what is wrong.

    415 not JSON; 413 body over MAX_BODY_BYTES; 400 invalid JSON; 422 not an object, ``text``
    missing, not a string, blank, or over MAX_TEXT_CHARS characters.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       f"send JSON with 'content-type: application/json', not {media_type or 'no content-type'!r}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ApiError(422, "invalid_body", 'the body must be a JSON object like {"text": "I love Elixir!"}')
    if "text" not in payload:
        raise ApiError(422, "missing_text", 'the field "text" is missing: send {"text": "..."}')
    text = payload["text"]
    if not isinstance(text, str):
        raise ApiError(422, "invalid_text", f'"text" must be a string, not {json_type(text)}')
    if not text.strip():
        raise ApiError(422, "empty_text", '"text" must not be empty')
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(422, "text_too_long", f'"text" has {len(text)} characters; the maximum is {MAX_TEXT_CHARS}')
    return text

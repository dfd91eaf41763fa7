"""What the API accepts: the text of a request, or an ``ApiError`` saying what is wrong.

The error shape and the limits are fixed by the drill (``mlcourse.api.contract``). Validation
refuses what the model cannot take (text that is not encodable UTF-8, control characters) so
that it fails here, alone, with a 422, instead of failing a whole batch in the model.
"""

from __future__ import annotations

from starlette.requests import Request

from mlcourse.api.contract import BODY_TIMEOUT_S, MAX_BODY_BYTES, MAX_TEXT_CHARS, ApiError

ALLOWED_CONTROLS = frozenset("\t\n\r")  # whitespace a person types; every other control character is refused


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages a client understands."""
    raise NotImplementedError(
        "json_type: the JSON name of a parsed value's type (a number, an array, null...), for the 422 messages "
        "that say what is wrong."
        " Taught in notebook 05, section 8; stuck: README.md, Hints."
    )


async def read_body(request: Request, timeout_s: float) -> bytes:
    """The whole body, at most MAX_BODY_BYTES, arrived within ``timeout_s`` (408 and close otherwise)."""
    raise NotImplementedError(
        "read_body: the whole body; 413 for a body over MAX_BODY_BYTES, refused before it is read whole; 408 "
        "(JSON error) for a body not fully arrived within timeout_s, and the connection closes."
        " Taught in notebook 05, section 9; stuck: README.md, Hints."
    )


def check_text(text: object) -> str:
    """``text`` itself if the model can take it; an ApiError (422) naming the problem otherwise."""
    raise NotImplementedError(
        "check_text: refuse with a 422 naming the problem what the model cannot take: not a string, empty or "
        "blank, over MAX_TEXT_CHARS characters, a lone surrogate, a control character other than tab, newline, "
        "carriage return."
        " Taught in notebook 05, section 7; stuck: README.md, Hints."
    )


async def read_text(request: Request, timeout_s: float = BODY_TIMEOUT_S) -> str:
    """The ``text`` of a ``{"text": "..."}`` JSON body, or an ApiError saying what is wrong.

    415 not JSON; 413 body over MAX_BODY_BYTES; 408 body not arrived within ``timeout_s``; 400 invalid
    JSON (nesting too deep included); 422 not an object, ``text`` missing, not a string, blank, over
    MAX_TEXT_CHARS characters, not encodable UTF-8 or holding control characters.
    """
    raise NotImplementedError(
        "read_text: the text of a {'text': '...'} JSON body, or the ApiError of README.md's table: 415 not JSON, "
        "413, 408, 400 invalid JSON (nesting too deep included), 422 for the body or its text."
        " Taught in notebook 05, section 9; stuck: README.md, Hints."
    )

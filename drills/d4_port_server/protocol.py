"""The wire format between the parent and the worker, and nothing else.

A frame is a 4-byte unsigned big-endian length N, then N payload bytes. The
payload's first byte is the protocol version; the rest is one msgpack map::

    request  {"ref": int, "features": [float, ...]}
    reply    {"ref": int, "prediction": {...}}
    error    {"ref": int | None, "error": {"type": str, "message": str}}

The length comes first and never changes meaning, so a reader can skip a frame
whose version or contents it does not understand and stay in step with the
stream. A length above MAX_FRAME_BYTES, or a stream that ends inside a frame,
leaves the reader unable to find the next frame: those are fatal to the stream.
"""

from __future__ import annotations

import asyncio
from typing import Any, BinaryIO

from mlcourse.port.errors import ProtocolError  # raise it for every violation below
from mlcourse.port.framing import HEADER, MAX_FRAME_BYTES, PROTOCOL_VERSION  # the format's numbers


def encode_frame(message: dict[str, Any]) -> bytes:
    """The frame of ``message``; ProtocolError if it would exceed MAX_FRAME_BYTES."""
    raise NotImplementedError(
        "encode_frame: return the frame of message as the wire format says (length, version byte, msgpack "
        "map), refusing one over MAX_FRAME_BYTES with "
        "ProtocolError. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def payload_length(header: bytes) -> int:
    """The payload length announced by a 4-byte header; ProtocolError if it is over the limit."""
    raise NotImplementedError(
        "payload_length: return the payload length a 4-byte header announces, refusing one over "
        "MAX_FRAME_BYTES with ProtocolError before the payload is "
        "read. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def decode_payload(payload: bytes) -> dict[str, Any]:
    """The map a payload carries; ProtocolError for anything that breaks the wire format."""
    raise NotImplementedError(
        "decode_payload: return the msgpack map a payload carries; every violation (empty, wrong version, "
        "not msgpack, trailing bytes, not a map) is a "
        "ProtocolError. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


def read_payload(stream: BinaryIO) -> bytes | None:
    """Blocking read of one frame's payload; None at a clean end of stream (between frames).

    ProtocolError if the length is over the limit or the stream ends inside a
    frame: the stream cannot be trusted after either.
    """
    raise NotImplementedError(
        "read_payload: return the next frame's payload from a blocking stream, None at a clean end of stream "
        "between frames; an oversized or truncated frame is a "
        "ProtocolError. Taught in notebook 06, section 3; stuck: README.md, Hints."
    )


async def read_payload_async(reader: asyncio.StreamReader) -> bytes | None:
    """The asyncio twin of :func:`read_payload`, for the parent side."""
    raise NotImplementedError(
        "read_payload_async: the same as read_payload, for an asyncio.StreamReader (the parent's "
        "side). Taught in notebook 06, section 3; stuck: README.md, Hints."
    )

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
    """Length prefix + version byte + msgpack map; ProtocolError if the frame would exceed MAX_FRAME_BYTES."""
    raise NotImplementedError(
        "encode_frame: payload = version byte + msgpack.packb(message); refuse a payload over MAX_FRAME_BYTES "
        "with ProtocolError; return HEADER.pack(len(payload)) + payload"
    )


def payload_length(header: bytes) -> int:
    """The payload length announced by a 4-byte header; ProtocolError if it is over the limit."""
    raise NotImplementedError(
        "payload_length: unpack the 4-byte big-endian length and refuse one above MAX_FRAME_BYTES"
    )


def decode_payload(payload: bytes) -> dict[str, Any]:
    """Check the version byte and unpack the msgpack map; ProtocolError on anything else."""
    raise NotImplementedError(
        "decode_payload: check the version byte, msgpack-unpack the rest, insist on a map; "
        "turn every failure (empty, wrong version, not msgpack, trailing bytes, not a map) into ProtocolError"
    )


def read_payload(stream: BinaryIO) -> bytes | None:
    """Blocking read of one frame's payload; None at a clean end of stream (between frames).

    ProtocolError if the length is over the limit or the stream ends inside a
    frame: the stream cannot be trusted after either.
    """
    raise NotImplementedError(
        "read_payload: read the 4-byte header (none at all: return None), check the length before reading "
        "the body, then read exactly that many bytes; a short read is a truncated frame (ProtocolError)"
    )


async def read_payload_async(reader: asyncio.StreamReader) -> bytes | None:
    """The asyncio twin of :func:`read_payload`, for the parent side."""
    raise NotImplementedError(
        "read_payload_async: as read_payload, with reader.readexactly() and asyncio.IncompleteReadError"
    )

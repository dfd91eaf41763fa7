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

import msgpack

from mlcourse.port.errors import ProtocolError
from mlcourse.port.framing import HEADER, MAX_FRAME_BYTES, PROTOCOL_VERSION


def encode_frame(message: dict[str, Any]) -> bytes:
    """Length prefix + version byte + msgpack map; ProtocolError if the frame would exceed MAX_FRAME_BYTES."""
    payload = bytes([PROTOCOL_VERSION]) + msgpack.packb(message)
    if len(payload) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds MAX_FRAME_BYTES={MAX_FRAME_BYTES}")
    return HEADER.pack(len(payload)) + payload


def payload_length(header: bytes) -> int:
    """The payload length announced by a 4-byte header; ProtocolError if it is over the limit."""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {length} bytes announced, above MAX_FRAME_BYTES={MAX_FRAME_BYTES}")
    return length


def decode_payload(payload: bytes) -> dict[str, Any]:
    """Check the version byte and unpack the msgpack map; ProtocolError on anything else."""
    if not payload:
        raise ProtocolError("empty payload: no version byte")
    if payload[0] != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {payload[0]} not supported (this side speaks {PROTOCOL_VERSION})")
    try:
        message = msgpack.unpackb(payload[1:])
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ProtocolError(f"payload is not one msgpack value: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"payload must be a msgpack map, got {type(message).__name__}")
    return message


def read_payload(stream: BinaryIO) -> bytes | None:
    """Blocking read of one frame's payload; None at a clean end of stream (between frames).

    ProtocolError if the length is over the limit or the stream ends inside a
    frame: the stream cannot be trusted after either.
    """
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise ProtocolError(f"stream ended inside a frame header ({len(header)} of {HEADER.size} bytes)")
    length = payload_length(header)
    payload = stream.read(length)
    if len(payload) < length:
        raise ProtocolError(f"stream ended inside a frame ({len(payload)} of {length} bytes)")
    return payload


async def read_payload_async(reader: asyncio.StreamReader) -> bytes | None:
    """The asyncio twin of :func:`read_payload`, for the parent side."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ProtocolError(f"stream ended inside a frame header ({len(exc.partial)} of {HEADER.size} bytes)") from exc
    length = payload_length(header)
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(f"stream ended inside a frame ({len(exc.partial)} of {length} bytes)") from exc

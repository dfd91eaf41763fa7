"""Checks of protocol.py: the wire format, and bad bytes turned into ProtocolError (never a crash)."""

from __future__ import annotations

import asyncio
import io
import struct

import msgpack
import pytest

REQUEST = {"ref": 7, "features": [39.1, 18.7, 181.0, 3750.0]}


def wire(body: bytes) -> bytes:
    """A frame built by hand from the README's wire format, independent of the code under test."""
    return struct.pack(">I", len(body)) + body


def async_reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def read_async(protocol, data: bytes) -> bytes | None:
    async def scenario() -> bytes | None:
        return await protocol.read_payload_async(async_reader(data))

    return asyncio.run(scenario())


@pytest.fixture
def protocol(drill):
    return drill.module("protocol")


@pytest.mark.points(1)
def test_frames_follow_the_wire_format(protocol):
    """Frames follow the wire format: a 4-byte big-endian length, the version byte, a msgpack map."""
    expected = wire(bytes([1]) + msgpack.packb(REQUEST))
    assert protocol.encode_frame(REQUEST) == expected, (
        "encode_frame must return a 4-byte big-endian length, then the version byte 1, then the msgpack map"
    )
    assert protocol.decode_payload(expected[4:]) == REQUEST, "decode_payload must give back the map that was encoded"


@pytest.mark.points(1)
def test_readers_return_one_payload_per_frame_and_none_at_the_end(protocol):
    """The readers return one payload per frame and None at the end."""
    two_frames = protocol.encode_frame(REQUEST) + protocol.encode_frame({"ref": 8, "features": []})
    stream = io.BytesIO(two_frames)
    payloads = [protocol.read_payload(stream), protocol.read_payload(stream), protocol.read_payload(stream)]
    assert [None if p is None else protocol.decode_payload(p)["ref"] for p in payloads] == [7, 8, None], (
        "read_payload must read exactly one frame per call and return None at a clean end of stream"
    )
    assert protocol.decode_payload(read_async(protocol, two_frames)) == REQUEST, (
        "read_payload_async must read one frame from an asyncio.StreamReader"
    )
    assert read_async(protocol, b"") is None, "read_payload_async must return None at a clean end of stream"


MALFORMED = {
    "an empty payload": b"",
    "bytes that are not msgpack": b"\x01\xc1",
    "msgpack that is not a map": b"\x01" + msgpack.packb([1, 2, 3]),
    "a map cut short": b"\x01" + msgpack.packb(REQUEST)[:-3],
    "a map followed by trailing bytes": b"\x01\x80\x80",
}


@pytest.mark.points(2)
def test_malformed_payload_is_a_protocol_error(protocol, errors):
    """Malformed payloads (empty, not msgpack, not a map, cut short, trailing bytes) raise ProtocolError."""
    for name, payload in MALFORMED.items():
        try:
            protocol.decode_payload(payload)
        except errors.ProtocolError:
            continue
        except NotImplementedError:
            raise  # the starter's own message says what decode_payload must do
        except Exception as exc:  # noqa: BLE001 (any other exception is the finding, reported)
            pytest.fail(f"decode_payload({name}) raised {type(exc).__name__}: turn it into ProtocolError")
        pytest.fail(f"decode_payload({name}) returned instead of raising ProtocolError")


@pytest.mark.points(1)
def test_wrong_version_is_a_protocol_error(protocol, errors):
    """A payload with the wrong protocol version raises ProtocolError."""
    with pytest.raises(errors.ProtocolError, match=r"(?i)version"):
        protocol.decode_payload(bytes([2]) + msgpack.packb(REQUEST))


@pytest.mark.points(1)
def test_oversized_frames_are_refused_both_ways(protocol, errors):
    """An oversized frame raises ProtocolError, when encoded and from its header alone when read."""
    limit = protocol.MAX_FRAME_BYTES
    with pytest.raises(errors.ProtocolError):
        protocol.encode_frame({"ref": 1, "features": [0.5] * (limit // 8)})
    too_big = struct.pack(">I", limit + 1) + b"\x01" * 16  # the header alone must be enough to refuse it
    with pytest.raises(errors.ProtocolError):
        protocol.read_payload(io.BytesIO(too_big))
    with pytest.raises(errors.ProtocolError):
        read_async(protocol, too_big)


@pytest.mark.points(1)
def test_truncated_frame_is_a_protocol_error(protocol, errors):
    """A stream that ends inside a frame raises ProtocolError."""
    for data in (b"\x00\x00", wire(b"\x01" + msgpack.packb(REQUEST))[:-5]):  # inside the header, inside the body
        with pytest.raises(errors.ProtocolError):
            protocol.read_payload(io.BytesIO(data))
        with pytest.raises(errors.ProtocolError):
            read_async(protocol, data)

"""Drill d4's penguin model behind the Elixir source's own wire format, for its ``PyPort`` (``elixir/``).

    python -m mlcourse.port.etf_worker MODEL_PATH [--packet 2|4]

Elixir opens it with ``Port.open({:spawn_executable, python}, [:binary, {:packet, 2}, :nouse_stdio,
:exit_status, args: [...]])``. With ``:nouse_stdio`` the frames travel on file descriptors 3 (in)
and 4 (out), so stdin and stdout stay the VM's and a stray ``print`` cannot corrupt the stream.
A frame is a 2- or 4-byte big-endian length, then one term in the Erlang External Term Format
(what ``:erlang.term_to_binary/1`` writes), read and written with PyPI's ``erlang-py``, never pickle:

    request  {ref, [bill_length, bill_depth, flipper_length, body_mass]}   ref: any term, echoed back
             {ref, {:sleep, ms}}   answered {ref, {:ok, :slept}} after ms milliseconds (at most
                                   MAX_SLEEP_MS): how a test makes a request outlast its caller's timeout
    reply    {ref, {:ok, %{label: "Adelie", probabilities: %{"Adelie" => p, ...}}}}
    error    {ref, {:error, {kind, message}}}    kind an atom, message a string (a binary)
             {nil, {:error, {kind, message}}}    a frame with no ref to give: not one term, not a
                                                 2-tuple, or above MAX_FRAME_BYTES (read and dropped)

Every bad frame or term gets its error reply and the worker serves on. It ends when fd 3 ends,
which is how it learns that the VM, or the port, is gone: status 0 between frames, 2 inside one.
"""

from __future__ import annotations

import argparse
import signal
import struct
import sys
import time
from collections.abc import Sequence
from typing import BinaryIO

import erlang

from mlcourse.port.penguin_model import LogisticModel, ModelFileError, load_model

IN_FD, OUT_FD = 3, 4  # where an Erlang port opened with :nouse_stdio puts its two pipes
MAX_FRAME_BYTES = 1 << 20  # with {:packet, 4}; {:packet, 2} cannot announce more than 65,535 bytes anyway
MAX_SLEEP_MS = 10_000
MAX_ERROR_CHARS = 300  # an error says what is wrong; it never carries the request back
EXIT_TRUNCATED = 2
HEADERS = {2: struct.Struct(">H"), 4: struct.Struct(">I")}
NIL = erlang.OtpErlangAtom("nil")


class FrameError(ValueError):
    """A frame that is not one request; ``kind`` is the atom its error reply carries."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def atom(name: str) -> erlang.OtpErlangAtom:
    return erlang.OtpErlangAtom(name)


def string(text: str) -> erlang.OtpErlangBinary:
    """An Elixir string: a UTF-8 binary (a Python ``str`` would arrive as a charlist)."""
    return erlang.OtpErlangBinary(text.encode())


def atom_name(term: object) -> str | None:
    """The name of an atom, however it was encoded (OTP 25 writes latin-1 atoms as bytes); None if not one."""
    if not isinstance(term, erlang.OtpErlangAtom) or isinstance(term.value, int):
        return None
    return term.value.decode("latin-1") if isinstance(term.value, bytes) else term.value


def error(ref: object, kind: str, message: str) -> tuple:
    if len(message) > MAX_ERROR_CHARS:
        message = f"{message[:MAX_ERROR_CHARS]}... ({len(message)} characters in all)"
    return (ref, (atom("error"), (atom(kind), string(message))))


def features_of(term: object) -> list[float]:
    """The four numbers of a request. A list of small integers arrives as bytes (Erlang's charlist)."""
    if isinstance(term, bytes):
        return [float(b) for b in term]
    if not isinstance(term, list):
        raise FrameError("bad_features", f"features must be a list of numbers, got {type(term).__name__}")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in term):
        raise FrameError("bad_features", "features must be numbers (integers or floats)")
    return [float(x) for x in term]


def prediction(model: LogisticModel, features: list[float]) -> tuple:
    try:
        result = model.predict(features)
    except ValueError as exc:
        raise FrameError("bad_features", str(exc)) from exc
    probabilities = {string(name): p for name, p in result["probabilities"].items()}
    return (atom("ok"), {atom("label"): string(result["label"]), atom("probabilities"): probabilities})


def sleep(term: object) -> tuple | None:
    """``{:sleep, ms}``: wait, then say so; None if ``term`` is not a sleep request."""
    if not (isinstance(term, tuple) and len(term) == 2 and atom_name(term[0]) == "sleep"):
        return None
    ms = term[1]
    if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= MAX_SLEEP_MS:
        raise FrameError("bad_sleep", f"{{:sleep, ms}} needs an integer 0..{MAX_SLEEP_MS}")
    time.sleep(ms / 1000)
    return (atom("ok"), atom("slept"))


def answer(model: LogisticModel, payload: bytes) -> tuple:
    """The reply term to one frame's payload: never raises for anything the frame holds."""
    try:
        term = erlang.binary_to_term(payload)
    except (erlang.ParseException, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return error(NIL, "bad_frame", f"not one term in the external term format: {exc}")
    if not (isinstance(term, tuple) and len(term) == 2):
        return error(NIL, "bad_term", "a request is a 2-tuple {ref, features}")
    ref, body = term
    try:
        return (ref, sleep(body) or prediction(model, features_of(body)))
    except FrameError as exc:
        return error(ref, exc.kind, str(exc))


def encode(term: tuple, packet: int) -> bytes:
    """One frame; a reply too large for it (a huge ref echoed) becomes an error without the ref."""
    payload = erlang.term_to_binary(term)
    limit = min(MAX_FRAME_BYTES, (1 << (8 * packet)) - 1)
    if len(payload) > limit:
        payload = erlang.term_to_binary(error(NIL, "too_large", f"a reply of {len(payload)} bytes exceeds {limit}"))
    return HEADERS[packet].pack(len(payload)) + payload


def read_frame(stream: BinaryIO, packet: int) -> bytes | None:
    """One frame's payload; None at the end of the stream between frames.

    Raises FrameError("too_large") after reading and dropping a payload above MAX_FRAME_BYTES,
    so the stream stays in step; EOFError if the stream ends inside a frame.
    """
    header_size = HEADERS[packet].size
    header = stream.read(header_size)
    if not header:
        return None
    if len(header) < header_size:
        raise EOFError("the stream ended inside a frame header")
    (length,) = HEADERS[packet].unpack(header)
    if length > MAX_FRAME_BYTES:
        left = length
        while left:
            chunk = stream.read(min(left, 1 << 16))
            if not chunk:
                raise EOFError("the stream ended inside an oversized frame")
            left -= len(chunk)
        raise FrameError("too_large", f"a frame of {length} bytes exceeds MAX_FRAME_BYTES={MAX_FRAME_BYTES}")
    payload = stream.read(length)
    if len(payload) < length:
        raise EOFError(f"the stream ended inside a frame ({len(payload)} of {length} bytes)")
    return payload


def serve(model: LogisticModel, frames_in: BinaryIO, frames_out: BinaryIO, packet: int = 2) -> int:
    """Answer frames until ``frames_in`` ends; returns the exit status."""
    while True:
        try:
            payload = read_frame(frames_in, packet)
        except FrameError as exc:
            reply = error(NIL, exc.kind, str(exc))
        except EOFError as exc:
            print(f"etf_worker: {exc}; exiting", file=sys.stderr)
            return EXIT_TRUNCATED
        else:
            if payload is None:
                return 0
            reply = answer(model, payload)
        frames_out.write(encode(reply, packet))
        frames_out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.port.etf_worker", description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the penguin model JSON (python -m mlcourse.port.penguin_model)")
    parser.add_argument("--packet", type=int, choices=sorted(HEADERS), default=2, help="the port's {:packet, N}")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group: the VM decides, by closing fd 3
    try:
        model = load_model(args.model)
    except (OSError, ModelFileError) as exc:
        print(f"etf_worker: cannot load model: {exc}", file=sys.stderr)
        return 1
    try:
        frames_in, frames_out = open(IN_FD, "rb"), open(OUT_FD, "wb")  # noqa: SIM115 (they live as long as we do)
    except OSError as exc:
        print(
            f"etf_worker: no fds {IN_FD}/{OUT_FD} ({exc}): start me from a port opened with :nouse_stdio",
            file=sys.stderr,
        )
        return 64
    try:
        return serve(model, frames_in, frames_out, args.packet)
    except BrokenPipeError:  # the VM closed our fd 4: it is gone, so are we
        return 0


if __name__ == "__main__":
    sys.exit(main())

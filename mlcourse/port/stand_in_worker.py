"""A d4 worker that misbehaves on its first start, then runs the real one: what the d4 checks supervise.

    python -m mlcourse.port.stand_in_worker MODE STARTS_FILE PACKAGE MODEL_PATH

Each start appends its pid to ``STARTS_FILE``, so a check can count restarts. On the first start
``MODE`` says how it misbehaves: ``die`` (exit 3 at every start), ``hang`` (sleep), ``garbage:HEX``
(read one request, answer those bytes, then hang), ``cut:HEX`` (the same, then exit), ``reverse:N``
(read N requests, answer them last first), ``nullref`` (read one request, send an error reply whose ref is
None, then answer the request and go on as the real worker). Every other start runs ``PACKAGE.worker`` on
``MODEL_PATH``.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from typing import Any, BinaryIO

import msgpack

from mlcourse.port.framing import HEADER, PROTOCOL_VERSION


def read_request(stream: BinaryIO) -> Any:
    (length,) = HEADER.unpack(stream.read(HEADER.size))
    return msgpack.unpackb(stream.read(length)[1:])


def write(stream: BinaryIO, data: bytes) -> None:
    stream.write(data)
    stream.flush()


NULL_REF_MESSAGE = "the stand-in could not read a frame (on purpose)"


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = bytes([PROTOCOL_VERSION]) + msgpack.packb(message)
    write(stream, HEADER.pack(len(body)) + body)


def misbehave(mode: str, model_path: str, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The first start's misbehaviour; returns when the real worker should run instead."""
    if mode.startswith(("garbage:", "cut:")):
        read_request(stdin)
        write(stdout, bytes.fromhex(mode.split(":")[1]))
        if mode.startswith("cut:"):
            sys.exit(0)
        time.sleep(60)
    elif mode == "hang":
        time.sleep(60)
    elif mode.startswith(("reverse:", "nullref")):
        from mlcourse.port.penguin_model import load_model

        model = load_model(model_path)
        requests = [read_request(stdin) for _ in range(int(mode.split(":")[1]) if ":" in mode else 1)]
        if mode == "nullref":
            write_message(stdout, {"ref": None, "error": {"type": "ProtocolError", "message": NULL_REF_MESSAGE}})
        for request in reversed(requests):
            write_message(stdout, {"ref": request["ref"], "prediction": model.predict(request["features"])})


def main(argv: list[str]) -> None:
    mode, starts_file, package, model_path = argv[:4]
    with open(starts_file, "a") as starts:
        starts.write(f"{os.getpid()}\n")
    with open(starts_file) as starts:
        first_start = len(starts.readlines()) == 1
    if mode == "die":
        sys.exit(3)
    if first_start:
        misbehave(mode, model_path, sys.stdin.buffer, sys.stdout.buffer)
    sys.argv = [f"{package}.worker", model_path]
    runpy.run_module(f"{package}.worker", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])

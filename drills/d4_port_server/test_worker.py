"""Checks of worker.py as a program: bytes in on stdin, frames out on stdout, no crash on bad bytes."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from mlcourse.port.penguin_model import load_model

FEATURES = [39.1, 18.7, 181.0, 3750.0]


def wire(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def request(ref: Any, features: Any = FEATURES, version: int = 1) -> bytes:
    return wire(bytes([version]) + msgpack.packb({"ref": ref, "features": features}))


def read_exactly(fd: int, size: int, deadline: float) -> bytes:
    data = b""
    while len(data) < size:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise AssertionError("the worker sent no complete reply frame within 10 s")
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError("the worker closed stdout (did it crash?) instead of sending a reply frame")
        data += chunk
    return data


def last_words(worker: subprocess.Popen[bytes]) -> str:
    """How the worker ended and the last line it wrote on stderr: usually what to change."""
    try:
        worker.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        return "it is still running"
    lines = worker.stderr.read().decode(errors="replace").strip().splitlines() if worker.stderr else []
    return f"it exited with status {worker.returncode}" + (f"; its last line on stderr: {lines[-1]}" if lines else "")


def read_reply(worker: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert worker.stdout is not None
    deadline = time.monotonic() + 10.0
    try:
        (length,) = struct.unpack(">I", read_exactly(worker.stdout.fileno(), 4, deadline))
        body = read_exactly(worker.stdout.fileno(), length, deadline)
    except EOFError as exc:
        raise AssertionError(f"{exc}: {last_words(worker)}") from None
    assert body[:1] == b"\x01", "a reply's payload must start with the protocol version byte 1"
    return msgpack.unpackb(body[1:])


def send(worker: subprocess.Popen[bytes], data: bytes) -> None:
    assert worker.stdin is not None
    worker.stdin.write(data)
    worker.stdin.flush()


def finish(worker: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait (bounded) for the worker to exit by itself; its status and what it wrote on stderr."""
    try:
        status = worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise AssertionError("the worker did not exit within 10 s") from None
    assert worker.stderr is not None
    return status, worker.stderr.read().decode(errors="replace")


@pytest.fixture
def worker(drill, model_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", f"{drill.package}.worker", str(model_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=drill.env(),
        bufsize=0,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.points(1)
def test_worker_answers_a_request_with_the_models_prediction(worker, model_path):
    """The worker answers a request with the model's prediction."""
    send(worker, request(41))
    reply = read_reply(worker)
    assert reply == {"ref": 41, "prediction": load_model(model_path).predict(FEATURES)}, (
        "the worker must answer {ref, features} with {ref, prediction} where prediction is model.predict(features)"
    )


@pytest.mark.points(1)
def test_worker_exits_when_its_stdin_closes(worker):
    """The worker exits with status 0 when stdin closes."""
    send(worker, request(1))
    assert read_reply(worker)["ref"] == 1, "the worker must answer a valid request"
    worker.stdin.close()
    status, stderr = finish(worker)
    assert status == 0 and "Traceback" not in stderr, (
        f"the worker must exit with status 0 when stdin closes (that is how it never outlives its parent); "
        f"got status {status}, stderr: {stderr[-500:]}"
    )


CHATTY_WORKER = """
import runpy, sys
from mlcourse.port.penguin_model import LogisticModel

predict = LogisticModel.predict

def chatty(self, features):
    print("a library being helpful, on stdout")
    return predict(self, features)

LogisticModel.predict = chatty
sys.argv = ["worker", sys.argv[1]]
runpy.run_module("{package}.worker", run_name="__main__")
"""


@pytest.mark.points(1)
def test_a_stray_print_never_reaches_the_frame_stream(drill, model_path):
    """A model that prints while it predicts: stdout still carries only the reply frame."""
    code = CHATTY_WORKER.format(package=drill.package)
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(model_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=drill.env(),
    )
    try:
        out, err = process.communicate(request(7), timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the worker did not answer one request and exit at the end of stdin within 20 s")
    last = (err.decode(errors="replace").strip().splitlines() or [""])[-1]
    assert out, (
        f"the worker wrote nothing on stdout (exit status {process.returncode}); its last line on stderr: {last}"
    )
    length = struct.unpack(">I", out[:4])[0] if len(out) >= 4 else -1
    expected = {"ref": 7, "prediction": load_model(model_path).predict(FEATURES)}
    assert len(out) == 4 + length and msgpack.unpackb(out[5:]) == expected, (
        f"a print() in the worker reached the frame stream (stdout began {out[:40]!r}): only frames go to "
        "stdout; keep a stream for the frames, then send stray output to stderr before the model loads"
    )


@pytest.mark.points(2)
def test_worker_answers_bad_frames_with_errors_and_keeps_serving(worker):
    """Bad frames get error replies and the worker keeps serving."""
    bad_frames = {
        "not msgpack": wire(b"\x01\xc1\xc1"),
        "wrong version": request(2, version=9),
        "not a map": wire(b"\x01" + msgpack.packb([1, 2])),
        "no ref": wire(b"\x01" + msgpack.packb({"features": FEATURES})),
    }
    for name, frame in bad_frames.items():
        send(worker, frame)
        reply = read_reply(worker)
        assert reply.get("ref") is None and "error" in reply, (
            f"a frame the worker cannot read ({name}) must get an error reply with ref None, got {reply}"
        )
    send(worker, request(3, features=[1.0, 2.0]))
    reply = read_reply(worker)
    assert reply.get("ref") == 3 and "error" in reply, (
        f"a request with the wrong number of features must get an error reply carrying its ref, got {reply}"
    )
    send(worker, request(4))
    assert "prediction" in read_reply(worker), "after bad frames the worker must still answer valid requests"
    assert worker.poll() is None, "bad frames must not stop the worker"


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "data",
    [struct.pack(">I", 0xFFFFFFF0) + b"\x01" * 64, struct.pack(">I", 100) + b"\x01\x82"],
    ids=["oversized", "truncated"],
)
def test_worker_closes_cleanly_on_a_stream_it_cannot_resync(worker, data):
    """An oversized or a truncated frame: error reply, exit status 2, no traceback."""
    send(worker, data)
    worker.stdin.close()
    reply = read_reply(worker)
    assert reply.get("ref") is None and "error" in reply, f"the worker must send an error reply first, got {reply}"
    status, stderr = finish(worker)
    assert status == 2 and "Traceback" not in stderr, (
        "after an oversized or truncated frame the worker must exit with status 2 and a one-line message, "
        f"not a traceback; got status {status}, stderr: {stderr[-500:]}"
    )


class OversizedAnswers:
    """A model whose first prediction is 2 MB of text: a reply that no frame (1 MiB at most) can carry."""

    def __init__(self, model) -> None:
        self.model, self.calls = model, 0

    def predict(self, features):
        self.calls += 1
        if self.calls == 1:
            return {"label": "x" * (2 << 20), "probabilities": {}}
        return self.model.predict(features)


@pytest.mark.points(1)
def test_a_reply_too_large_for_a_frame_becomes_an_error_reply(drill, model_path):
    """A reply too large for a frame becomes an error reply for its ref, and the worker goes on."""
    import io

    worker_module = drill.module("worker")
    stdin, stdout = io.BytesIO(request(1) + request(2)), io.BytesIO()
    try:
        status = worker_module.serve(OversizedAnswers(load_model(model_path)), stdin, stdout)
    except NotImplementedError:
        raise  # the starter's own message says what serve and reply_frame must do
    except Exception as exc:  # noqa: BLE001 - the message says what to change
        pytest.fail(
            f"serve() raised {type(exc).__name__} on a reply too large for a frame: send an error reply "
            "for that ref instead (a bad request must fail alone, not end the worker)"
        )
    data, replies = stdout.getvalue(), []
    while data:
        (length,) = struct.unpack(">I", data[:4])
        replies.append(msgpack.unpackb(data[5 : 4 + length]))
        data = data[4 + length :]
    assert status == 0, f"serve() must return 0 at the end of stdin, got {status}"
    assert [r.get("ref") for r in replies] == [1, 2], (
        f"one reply per request, in order; got refs {[r.get('ref') for r in replies]}"
    )
    assert "error" in replies[0] and len(str(replies[0]["error"])) < 2000, (
        "the reply too large for a frame must become a short error reply carrying its ref"
    )
    assert "prediction" in replies[1], "after that the worker must go on answering"

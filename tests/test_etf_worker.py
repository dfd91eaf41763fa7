"""The ETF worker that Elixir's PyPort drives: its answers, its errors, its framing, its fds (no Elixir needed)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import erlang
import pytest

from mlcourse.paths import REPO_ROOT
from mlcourse.port import etf_worker
from mlcourse.port.etf_worker import HEADERS, MAX_FRAME_BYTES, NIL, atom, atom_name, string
from mlcourse.port.penguin_model import LogisticModel, build, load_model

ROW = [39.1, 18.7, 181, 3750]  # the first Adelie of data/penguins.csv


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("etf-model") / "penguins-logreg.json")


@pytest.fixture(scope="module")
def model(model_path: Path) -> LogisticModel:
    return load_model(model_path)


def frame(term: object, packet: int = 2) -> bytes:
    payload = erlang.term_to_binary(term)
    return HEADERS[packet].pack(len(payload)) + payload


def replies(stream: bytes, packet: int = 2) -> list[Any]:
    """Every reply term in an output stream."""
    terms, header = [], HEADERS[packet]
    while stream:
        (length,) = header.unpack(stream[: header.size])
        terms.append(erlang.binary_to_term(stream[header.size : header.size + length]))
        stream = stream[header.size + length :]
    return terms


def serve(model: LogisticModel, frames: bytes, packet: int = 2) -> tuple[int, list[Any]]:
    out = io.BytesIO()
    status = etf_worker.serve(model, io.BytesIO(frames), out, packet)
    return status, replies(out.getvalue(), packet)


def as_python(term: object) -> Any:
    """A reply with atoms as their names and binaries as str, for comparisons."""
    if isinstance(term, erlang.OtpErlangAtom):
        return atom_name(term)
    if isinstance(term, erlang.OtpErlangBinary):
        return term.value.decode()
    if isinstance(term, dict):
        return {as_python(key): as_python(value) for key, value in term.items()}
    if isinstance(term, tuple):
        return tuple(as_python(item) for item in term)
    return term


@pytest.mark.parametrize("packet", [2, 4])
def test_a_request_gets_the_models_prediction_under_its_ref(model: LogisticModel, packet: int) -> None:
    ref = erlang.OtpErlangReference(atom("nonode@nohost"), b"\x00\x01\x02\x03" * 3, b"\x00\x00\x00\x01")
    status, [reply] = serve(model, frame((ref, ROW), packet), packet)
    assert status == 0  # the stream ended between frames: the VM closed the port
    assert reply[0] == ref
    assert as_python(reply[1]) == ("ok", model.predict(ROW))


def test_a_list_of_small_integers_arrives_as_a_charlist_and_still_counts(model: LogisticModel) -> None:
    """Elixir writes [40, 18, 200, 250] as a string (charlist) in the term format: bytes in Python."""
    _, [reply] = serve(model, frame((7, b"\x28\x12\xc8\xfa")))
    assert as_python(reply) == (7, ("ok", model.predict([40, 18, 200, 250])))


def test_replies_follow_the_requests_and_each_keeps_its_ref(model: LogisticModel) -> None:
    rows = [[40.0 + i, 18.0, 190.0 + i, 3800.0] for i in range(20)]
    _, got = serve(model, b"".join(frame((i, row)) for i, row in enumerate(rows)))
    assert [as_python(reply) for reply in got] == [(i, ("ok", model.predict(row))) for i, row in enumerate(rows)]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ([1.0, 2.0], "bad_features"),
        ([1.0, 2.0, 3.0, True], "bad_features"),
        ([1.0, string("x"), 3.0, 4.0], "bad_features"),
        (atom("predict"), "bad_features"),
        ((atom("sleep"), -1), "bad_sleep"),
        ((atom("sleep"), 10_000_000), "bad_sleep"),
    ],
)
def test_a_bad_request_fails_alone_under_its_ref(model: LogisticModel, body: object, kind: str) -> None:
    _, [bad, good] = serve(model, frame((41, body)) + frame((42, ROW)))
    ref, (tag, (got_kind, message)) = as_python(bad)
    assert (ref, tag, got_kind) == (41, "error", kind)
    assert message
    assert as_python(good) == (42, ("ok", model.predict(ROW)))


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\x83", "bad_frame"),  # the version byte and nothing else
        (b"not a term at all", "bad_frame"),
        (erlang.term_to_binary((1, ROW))[:-3], "bad_frame"),  # truncated inside the term
        (erlang.term_to_binary([1, ROW]), "bad_term"),  # a list, not {ref, features}
        (erlang.term_to_binary((1, ROW, 3)), "bad_term"),
        (b"", "bad_frame"),
    ],
)
def test_a_bad_frame_gets_an_error_without_a_ref_and_the_worker_serves_on(
    model: LogisticModel, payload: bytes, kind: str
) -> None:
    _, [bad, good] = serve(model, struct.pack(">H", len(payload)) + payload + frame((42, ROW)))
    assert bad[0] == NIL  # Elixir reads {nil, {:error, {kind, message}}}
    tag, (got_kind, message) = as_python(bad[1])
    assert (tag, got_kind) == ("error", kind)
    assert message
    assert as_python(good) == (42, ("ok", model.predict(ROW)))


def test_an_oversized_frame_is_read_past_refused_and_the_stream_stays_in_step(model: LogisticModel) -> None:
    too_big = HEADERS[4].pack(MAX_FRAME_BYTES + 1) + b"\x00" * (MAX_FRAME_BYTES + 1)
    _, [bad, good] = serve(model, too_big + frame((42, ROW), 4), 4)
    assert as_python(bad)[1][1][0] == "too_large"
    assert as_python(good) == (42, ("ok", model.predict(ROW)))


def test_a_reply_too_large_for_its_frame_becomes_an_error_without_the_ref(model: LogisticModel) -> None:
    huge_ref = erlang.OtpErlangBinary(b"r" * 65_450)  # fits a {:packet, 2} request; its reply would not
    _, [reply] = serve(model, frame((huge_ref, ROW)))
    assert reply[0] == NIL
    assert as_python(reply[1])[1][0] == "too_large"


def test_an_error_message_is_bounded(model: LogisticModel) -> None:
    _, [reply] = serve(model, frame((1, [1.0] * 5000), 4), 4)
    assert len(as_python(reply)[1][1][1]) < etf_worker.MAX_ERROR_CHARS + 50


def test_sleep_answers_after_the_time_asked(model: LogisticModel) -> None:
    _, [reply] = serve(model, frame((1, (atom("sleep"), 20))))
    assert as_python(reply) == (1, ("ok", "slept"))


def test_a_stream_that_ends_inside_a_frame_ends_the_worker_with_status_2(model: LogisticModel) -> None:
    status, got = serve(model, frame((1, ROW)) + struct.pack(">H", 100) + b"\x83")
    assert status == etf_worker.EXIT_TRUNCATED
    assert len(got) == 1


def test_the_process_speaks_on_fds_3_and_4_and_a_stray_print_cannot_reach_them(
    model_path: Path, model: LogisticModel
) -> None:
    """As an Erlang port with :nouse_stdio starts it: frames on fds 3/4, stdout and stderr the VM's own."""
    shell = (
        "exec \"$0\" -c \"print('stray'); import runpy, sys; sys.argv = ['etf_worker', '$1']; "
        "runpy.run_module('mlcourse.port.etf_worker', run_name='__main__')\" 3<&0 4>&1 </dev/null 1>&2"
    )
    child = subprocess.run(
        ["sh", "-c", shell, sys.executable, str(model_path)],
        input=frame((1, ROW)) + frame((2, ROW)),
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr.decode()
    assert [as_python(reply) for reply in replies(child.stdout)] == [(i, ("ok", model.predict(ROW))) for i in (1, 2)]
    assert b"stray" in child.stderr


def test_started_without_fds_3_and_4_it_says_how_to_start_it(model_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "mlcourse.port.etf_worker", str(model_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        close_fds=True,
        stdin=subprocess.DEVNULL,
    )
    assert child.returncode == 64
    assert ":nouse_stdio" in child.stderr

"""Fuzz drill d4's reference decoder and worker with Hypothesis: any bytes on the wire become a payload,
the end of the stream or a ProtocolError, and every answer fits one frame and keeps its ref
(``make chaos`` tries many more)."""

from __future__ import annotations

import pytest

from mlcourse.chaos.frames import fuzz_frames
from mlcourse.impl import load_drill
from mlcourse.port.bench import trivial_model

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations


@pytest.fixture(scope="module")
def model():
    return trivial_model()  # one feature, no training: the properties do not depend on the model


def test_fuzzed_frames_never_crash_the_decoder_or_the_worker(model):
    drill = load_drill("solutions", "d4_port_server")
    tally = fuzz_frames(drill.module("protocol"), drill.module("worker"), model, examples=300, seed=4)
    assert tally.streams == 300 and tally.frames >= 300, f"every stream must be read: {dict(tally.outcomes)}"
    assert not tally.problems, "\n".join(tally.problems[:10])
    assert tally.outcomes["error reply"] and tally.outcomes["stream refused"], (
        f"the fuzz must reach both bad requests and broken streams: {dict(tally.outcomes)}"
    )

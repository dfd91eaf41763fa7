"""A ``--url`` that is not the sentiment API's base URL is a clear error, not a run of 404s.

``probe_api`` (d6's command and the d6 benchmark) tells the API's base URL from its endpoint
pasted whole, from no server at all and from no URL at all; ``expected_base_url`` is the hint.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlcourse.api.process import free_port
from mlcourse.drill_commands.d6_hybrid_pipeline import EXIT_MISCONFIGURED, EXIT_UNREACHABLE, probe_api
from mlcourse.pipeline.errors import expected_base_url
from mlcourse.pipeline.misbehaving import MisbehavingServer


@pytest.fixture(scope="module")
def server():
    with MisbehavingServer() as running:
        yield running


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000/api/sentiment", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/healthz/", "http://127.0.0.1:8000"),
        ("http://host:8000/prefix/api/sentiment", "http://host:8000/prefix"),
        ("http://127.0.0.1:8000/v2/predict", "http://127.0.0.1:8000"),
    ],
)
def test_expected_base_url(given, expected):
    assert expected_base_url(given) == expected


def problem_of(url: str) -> tuple[int, str]:
    """probe_api's (exit status, message) for a URL it must refuse."""
    found = probe_api(url)
    assert found is not None, f"probe_api accepted {url}"
    return found


def test_probe_tells_the_base_url_from_the_rest(server):
    assert probe_api(server.url) is None
    status, message = problem_of(f"{server.url}/api/sentiment")
    assert status == EXIT_MISCONFIGURED and f"{server.url}/api/sentiment/healthz answered HTTP 404" in message
    assert message.endswith(server.url), message
    nobody = f"http://127.0.0.1:{free_port()}"
    status, message = problem_of(nobody)
    assert status == EXIT_UNREACHABLE and nobody in message
    status, message = problem_of("127.0.0.1:8000")
    assert status == EXIT_MISCONFIGURED and "127.0.0.1:8000" in message


def test_the_benchmark_refuses_a_wrong_url_before_it_runs(server, tmp_path):
    wrong = f"{server.url}/api/sentiment"
    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.pipeline.bench", "--url", wrong, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_MISCONFIGURED and wrong in done.stderr and "Traceback" not in done.stderr, (
        f"exit {done.returncode}: {done.stderr[-800:]}"
    )
    assert not any(tmp_path.iterdir()), "nothing runs, nothing is written, with a wrong --url"

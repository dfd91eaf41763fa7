"""d1's OpenAPI document is its contract: schemathesis, reading the document as served, finds no gap.

The reference runs with the fake model under uvicorn on loopback; schemathesis generates requests
from ``/openapi.json`` (valid ones and ones that break the schema), sends them, and runs all its
default checks on each answer: a status the document does not list, a body or a header that
does not match it, a valid request refused, an invalid one accepted, a 5xx.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mlcourse.api.models import FakeCost
from mlcourse.api.openapi import ROUTES
from mlcourse.api.process import served

pytestmark = pytest.mark.needs_solutions  # serves the reference implementation

EXAMPLES = 150  # requests generated over the three operations, positive and negative together


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with served("solutions", fake=FakeCost(), batching="adaptive", ready_timeout_s=60) as server:
        yield server.url


def test_the_served_document_declares_the_contract(api_url):
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    sent: Counter[str] = Counter()

    @given(case=st.one_of([schema.as_strategy(mode) for mode in GenerationMode]))
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def conforms(case: schemathesis.Case) -> None:
        sent[f"{case.method} {case.path} {case.meta.generation.mode if case.meta else ''}".strip()] += 1
        case.call_and_validate(timeout=10)

    conforms()
    assert "/openapi.json" in httpx.get(f"{api_url}/docs", timeout=10).text, "/docs must show the served document"
    print(f"schemathesis sent {sum(sent.values())} requests, 0 failures: {dict(sent)}")
    assert {key.split(" ")[1] for key in sent} == {"/api/sentiment", "/healthz", "/metrics"}, sent


def test_the_ray_serve_ingress_publishes_the_same_contract():
    """Its document is d1's (the same shared declarations), plus the 504 only the ingress answers."""
    pytest.importorskip("ray.serve")
    from mlcourse.distributed.ingress import app

    paths = app.openapi()["paths"]
    for (method, path), declared in ROUTES.items():
        statuses = set(paths[path][method.lower()]["responses"])
        assert {str(status) for status in declared["responses"]} <= statuses, (method, path, statuses)
    sentiment = paths["/api/sentiment"]["post"]
    assert "504" in sentiment["responses"] and sentiment["requestBody"]["required"], sentiment
    assert "Retry-After" in sentiment["responses"]["429"]["headers"], sentiment["responses"]["429"]

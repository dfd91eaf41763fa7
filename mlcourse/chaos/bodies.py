"""Hostile HTTP bodies for the d1 API, and the property each answer must keep.

A body is what a client controls: bytes, a content type, JSON of any shape and depth, text with
lone surrogates, control characters and every script. Whatever it sends, the API answers with a
documented status and the JSON error body; a 5xx is allowed only for a text the model itself
failed on (the batcher isolates it), and then only for that request.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

API = "/api/sentiment"
DOCUMENTED = {200, 400, 408, 413, 415, 422, 429, 503}  # 500 only as the isolated answer to a poisoned text
NASTY = [
    "\ud800",
    "\udfff",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "é",
    "\u0301" * 50,
    "' OR 1=1 --",
    "<script>",
    "\\",
    '"',
    "\r\n\r\n",
    "﷽" * 20,
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)
hostile_text = st.lists(
    st.sampled_from(NASTY) | st.text(alphabet=st.characters(codec=None), max_size=30), max_size=8
).map("".join)
texts = hostile_text | st.text(max_size=2100) | st.integers(1990, 2010).map(lambda n: "a" * n)


def encode(value: object) -> bytes:
    """JSON as a client would send it; lone surrogates travel as escapes (valid JSON, not valid Unicode)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


bodies = st.one_of(
    texts.map(lambda text: encode({"text": text})),
    st.builds(
        lambda text, extra: encode({"text": text, **extra}),
        texts,
        st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    ),
    json_values.map(lambda value: encode({"text": value})),
    json_values.map(encode),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 5000).map(lambda depth: b'{"text":' * depth),
    st.binary(max_size=300),
    st.integers(4300, 5000).map(lambda digits: b'{"text": ' + b"9" * digits + b"}"),
    st.just(encode({"text": "x" * 70_000})),
)
content_types = st.sampled_from(["application/json"] * 8 + ["application/json; charset=latin-1", "text/plain", ""])


@dataclass
class BodyTally:
    """What the fuzzed bodies got back."""

    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(self.statuses.values())


def judge(response: httpx.Response, tally: BodyTally, body: bytes) -> None:
    """Record the answer; a status outside the contract, or an error that is not the JSON error, is a problem."""
    tally.statuses[response.status_code] += 1
    where = f"{body[:60]!r} -> {response.status_code}"
    if response.status_code not in DOCUMENTED and response.status_code != 500:
        tally.problems.append(f"undocumented status: {where}")
    if response.status_code != 200:
        try:
            error = response.json()["error"]
            assert isinstance(error["code"], str) and isinstance(error["message"], str)
        except (ValueError, KeyError, TypeError, AssertionError):
            tally.problems.append(f"not the JSON error body: {where} {response.text[:80]!r}")


def fuzz_bodies(post: Callable[[bytes, str], httpx.Response], *, examples: int, seed: int = 0) -> BodyTally:
    """Send ``examples`` Hypothesis-generated bodies through ``post(body, content_type)`` and tally the answers."""
    tally = BodyTally()

    @fixed_seed(seed)  # reproducible runs: the same bodies for the same seed
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies, content_type=content_types)
    def send(body: bytes, content_type: str) -> None:
        judge(post(body, content_type), tally, body)

    send()
    return tally


def poster(client: httpx.Client) -> Callable[[bytes, str], httpx.Response]:
    """``post(body, content_type)`` on a synchronous httpx client pointed at the API."""

    def post(body: bytes, content_type: str) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        return client.post(API, content=body, headers=headers)

    return post

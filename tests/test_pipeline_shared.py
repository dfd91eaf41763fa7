"""The hybrid pipeline's shared pieces: the misbehaving server's record, the compiled .proto, the CSV writer."""

import httpx
import polars as pl
import pytest

from mlcourse.pipeline.csvgen import write_sentiment_csv
from mlcourse.pipeline.misbehaving import REFUSED_TEXT, MisbehavingServer, Policy


def test_the_policy_is_reproducible_and_answers_within_a_few_attempts():
    policy = Policy(p_429=0.3, p_503=0.3, p_drop=0.3, misbehave_attempts=2, seed=3)
    draws = [policy.behaviour(f"text {i}", attempt) for i in range(200) for attempt in range(3)]
    assert draws == [policy.behaviour(f"text {i}", attempt) for i in range(200) for attempt in range(3)]
    assert all(policy.behaviour(f"text {i}", 2) == "ok" for i in range(200))
    assert {"429", "503", "drop", "ok"} <= set(draws)
    assert policy.behaviour(REFUSED_TEXT, 5) == "422"


def test_the_server_records_what_it_answered_and_spots_an_early_retry():
    with MisbehavingServer(Policy(retry_after_s=1)) as server:
        server.script(["429", "ok"])
        with httpx.Client(base_url=server.url) as client:
            first = client.post("/api/sentiment", json={"text": "hi"})
            second = client.post("/api/sentiment", json={"text": "hi"})  # at once: earlier than Retry-After
            refused = client.post("/api/sentiment", json={"text": REFUSED_TEXT})
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "1", 200)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "refused_text"
    assert [a.behaviour for a in server.attempts_of("hi")] == ["429", "ok"]
    assert len(server.early_retries()) == 1 and server.connections == 1 and server.max_in_flight == 1


def test_a_dropped_connection_is_a_transport_error():
    with MisbehavingServer() as server, httpx.Client(base_url=server.url) as client:
        server.script(["drop"])
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/sentiment", json={"text": "hi"})


def test_the_proto_compiles_to_importable_messages():
    from mlcourse.pipeline.protos import load

    messages, services = load()
    reply = messages.Prediction(label="high", probabilities={"high": 0.9})
    assert messages.Prediction.FromString(reply.SerializeToString()) == reply
    assert hasattr(services, "PredictorStub")


def test_the_csv_writer_writes_every_row_once(tmp_path):
    frame = pl.read_csv(write_sentiment_csv(tmp_path / "x.csv", 2_500, chunk_rows=1_000))
    assert frame.columns == ["id", "text"] and frame.height == 2_500 and frame["id"].n_unique() == 2_500

"""The compiled serving: every bucket compiled at load, never while serving; the predict_batch contract.

Runs on a small random BERT (same tokenizer as the default model) so it needs no build and
compiles in about a second.
"""

import numpy as np
import pytest

from mlcourse.encoder.compilation import counting_compilations

BUCKETS = (16, 32, 128)
BATCH_SIZES = (1, 4)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from mlcourse.sentiment.finetune import base_model_dir

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(base_model_dir())).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def loaded(tiny_bert):
    from mlcourse.encoder.serving import load_jax_serving

    with counting_compilations() as compiled:
        serving = load_jax_serving(tiny_bert, batch_sizes=BATCH_SIZES, buckets=BUCKETS)
    return serving, compiled.count


def test_every_bucket_is_compiled_at_load(loaded):
    serving, compilations = loaded
    shapes = {(rows, length) for rows in BATCH_SIZES for length in BUCKETS}
    assert set(serving.compiled) == shapes
    assert compilations >= len(shapes), "each (batch, sequence) bucket must be compiled ahead of time, at load"
    assert all(seconds > 0 for seconds in serving.compile_seconds.values())
    assert serving.load_seconds >= max(serving.compile_seconds.values())  # the whole load, compiled in parallel
    assert str(serving.device) in serving.summary() and f"{len(shapes)} programs" in serving.summary()
    assert all(size > 0 for size in serving.program_bytes().values())


def test_serving_never_compiles_at_any_batch_size(loaded):
    import jax

    serving, _ = loaded
    lengths = ["hi", "a fine day " * 4, "word " * 400]  # the 16, 32 and 128 (truncated) buckets
    with counting_compilations() as compiled:
        for rows in range(1, 2 * serving.batch_size + 2):  # every bucket, and lists that need several chunks
            for text in lengths:
                assert len(serving.predict_batch([text] * rows)) == rows
    assert compiled.count == 0, f"serving compiled {compiled.count} program(s): pad to a compiled bucket instead"
    with counting_compilations() as compiled:  # the counter itself can fail: a fresh shape compiles
        jax.jit(lambda x: x * 2)(np.ones(7))
    assert compiled.count == 1


def test_batches_are_padded_to_the_smallest_buckets_and_long_texts_truncated(loaded):
    serving, _ = loaded
    assert serving.encode(["hi"])["input_ids"].shape == (1, 16)
    assert serving.encode(["hi"] * 3)["input_ids"].shape == (4, 16)  # 3 rows run in the 4-row program
    three = serving.encode(["hi"] * 3)
    assert three["attention_mask"][3, :2].tolist() == [1, 1] and three["attention_mask"][3, 2:].sum() == 0  # filler
    assert serving.encode(["word " * 20, "hi"])["input_ids"].shape == (4, 32)
    long = serving.encode(["word " * 5000])
    assert long["input_ids"].shape == (1, 128) and long["attention_mask"][0].sum() == 128
    assert long["input_ids"][0, -1] == serving.tokenizer.sep_token_id  # truncated, still a well-formed input


def test_predict_batch_contract(loaded):
    serving, _ = loaded
    texts = ["I love it", "I hate it", "", "so-so " * 50, "fine"]
    results = serving.predict_batch(texts)
    assert len(results) == len(texts)
    assert all(r["label"] in {"positive", "negative"} and 0.5 <= r["score"] <= 1.0 for r in results)
    one_by_one = [serving.predict(text) for text in texts]  # batch neighbours and bucket must not matter
    assert [r["label"] for r in one_by_one] == [r["label"] for r in results]
    np.testing.assert_allclose([r["score"] for r in one_by_one], [r["score"] for r in results], atol=1e-5)
    assert serving.predict_batch([]) == []
    with pytest.raises(TypeError):
        serving.predict_batch("not a list")


def test_the_d1_server_can_load_the_jax_backend(tiny_bert, monkeypatch, capsys):
    from functools import partial

    from mlcourse.api.models import model_loader
    from mlcourse.api.serve import parse_args
    from mlcourse.encoder import serving
    from mlcourse.encoder.serving import CompiledServing

    assert parse_args(["--backend", "jax"]).backend == "jax"
    few = partial(serving.load_jax_serving, batch_sizes=(1, 2), buckets=(16,))  # the wiring, not the bucket set
    monkeypatch.setattr(serving, "load_jax_serving", few)
    predict_batch = model_loader(str(tiny_bert), backend="jax")()
    assert "2 programs compiled ahead of time" in capsys.readouterr().err  # the server's log says what it loaded
    assert isinstance(getattr(predict_batch, "__self__", None), CompiledServing)  # a bound method of it
    assert len(predict_batch(["hello", "world"])) == 2


def test_parity_cli_ends_with_json(tiny_bert):
    import json
    import subprocess
    import sys

    from mlcourse.encoder.parity import PARITY_TOLERANCE

    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.encoder", "parity", "--model", str(tiny_bert), "--texts", "20"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["max_abs_logit_diff"] <= PARITY_TOLERANCE and figures["label_agreement"] == 1.0

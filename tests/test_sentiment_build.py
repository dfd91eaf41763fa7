"""The build pipeline end to end on a shrunk config, and the stamp that makes a second run a no-op."""

import random
import subprocess
import sys
import time

import pytest

from mlcourse.sentiment import DEFAULT_MODEL_DIR, build
from mlcourse.sentiment.build import ensure_built
from mlcourse.sentiment.build_cache import is_built
from mlcourse.sentiment.finetune import TrainConfig, length_bucketed_batches

TINY = TrainConfig(train_limit=32, test_limit=32, batch_size=16)


def test_length_buckets_cover_every_row_once_with_little_padding():
    lengths = [random.Random(1).randint(5, 60) for _ in range(1000)]
    batches = length_bucketed_batches(lengths, batch_size=32, rng=random.Random(0))
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    padded = sum(max(lengths[i] for i in batch) * len(batch) for batch in batches)
    assert padded < 1.1 * sum(lengths)


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("build") / "sentiment-tiny"
    ensure_built(model_dir, TINY, num_threads=1)
    return model_dir


def test_build_saves_model_card_and_stamp(tiny_build):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "MODEL_CARD.md", "build_stamp.json"):
        assert (tiny_build / name).is_file(), name
    card = (tiny_build / "MODEL_CARD.md").read_text()
    assert "held-out" in card and "TF-IDF" in card and "Build time" in card


def test_built_model_loads_through_the_one_loading_path(tiny_build):
    from mlcourse.sentiment import load_serving

    predictions = load_serving(tiny_build).predict_batch(["good", "bad", "fine"])
    assert [p["label"] in ("positive", "negative") for p in predictions] == [True] * 3


def test_second_build_is_a_no_op(tiny_build, monkeypatch):
    monkeypatch.setattr(build, "build", lambda *a, **k: pytest.fail("rebuilt an up-to-date model"))
    started = time.perf_counter()
    assert ensure_built(tiny_build, TINY) == tiny_build
    assert time.perf_counter() - started < 2.0


def test_changed_config_or_code_means_stale(tiny_build, monkeypatch):
    assert is_built(tiny_build, TINY)
    assert not is_built(tiny_build, TrainConfig(train_limit=33, test_limit=32, batch_size=16))
    monkeypatch.setattr(build.data, "corpus_sha256", lambda path=None: "another data version")
    assert not is_built(tiny_build, TINY)


@pytest.mark.skipif(not is_built(), reason="default model not built: run `python -m mlcourse.sentiment.build`")
def test_build_command_is_fast_when_up_to_date():
    started = time.perf_counter()
    command = [sys.executable, "-m", "mlcourse.sentiment.build"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stderr and str(DEFAULT_MODEL_DIR) in done.stderr
    assert elapsed < 5.0, f"an up-to-date check took {elapsed:.1f} s"

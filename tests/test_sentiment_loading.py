"""One loading path: label mapping, hub ids offline, and a DistilBERT checkpoint loaded from disk."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcourse.sentiment import load_serving, loading
from mlcourse.sentiment.finetune import base_model_dir
from mlcourse.sentiment.loading import LabelMappingError, ModelLoadError, ModelNotBuiltError, sentiment_labels

SST2_HUB_ID = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, ("negative", "positive")),  # DistilBERT SST-2
        ({0: "LABEL_0", 1: "LABEL_1"}, ("negative", "positive")),  # unnamed binary head
        ({"0": "positive", "1": "negative"}, ("positive", "negative")),  # JSON keys, reversed order
        ({0: "neg", 1: "pos"}, ("negative", "positive")),
    ],
)
def test_label_mapping(id2label, expected):
    assert sentiment_labels(id2label) == expected


@pytest.mark.parametrize(
    "id2label",
    [{0: "negative", 1: "neutral", 2: "positive"}, {0: "positive", 1: "POSITIVE"}, {0: "joy", 1: "anger"}],
)
def test_label_mapping_rejects_non_binary_sentiment(id2label):
    with pytest.raises(LabelMappingError, match="positive/negative"):
        sentiment_labels(id2label)


def save_tiny_distilbert(folder: Path, id2label: dict[int, str]) -> Path:
    """A DistilBERT-architecture classifier with random weights and the MiniLM vocabulary."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizer

    torch.manual_seed(0)
    tokenizer = DistilBertTokenizer.from_pretrained(base_model_dir())
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=128,
        id2label=id2label, label2id={name: i for i, name in id2label.items()},
    )  # fmt: skip
    DistilBertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def distilbert_dir(tmp_path_factory) -> Path:
    return save_tiny_distilbert(tmp_path_factory.mktemp("distilbert"), {0: "NEGATIVE", 1: "POSITIVE"})


TEXTS = ["I love this course", "This is a waste of time", "ok", "the flight was delayed for three long hours again"]


def test_distilbert_checkpoint_loads_through_the_same_function(distilbert_dir):
    serving = load_serving(str(distilbert_dir), num_threads=1)
    assert type(serving.classifier.model).__name__ == "DistilBertForSequenceClassification"
    assert serving.labels == ("negative", "positive")
    predictions = serving.predict_batch(TEXTS)
    assert len(predictions) == len(TEXTS)
    for prediction in predictions:
        assert set(prediction) == {"label", "score"}
        assert prediction["label"] in ("positive", "negative")
        assert isinstance(prediction["score"], float) and 0.5 <= prediction["score"] <= 1.0


def test_unnamed_labels_are_mapped(tmp_path):
    serving = load_serving(save_tiny_distilbert(tmp_path, {0: "LABEL_0", 1: "LABEL_1"}))
    assert serving.labels == ("negative", "positive")


def test_batch_and_single_inference_agree(distilbert_dir):
    serving = load_serving(distilbert_dir)
    batch = serving.predict_batch(TEXTS)
    for text, batched in zip(TEXTS, batch, strict=True):
        single = serving.predict(text)
        assert single["label"] == batched["label"]
        assert single["score"] == pytest.approx(batched["score"], abs=1e-4)


def test_predict_batch_edge_cases(distilbert_dir):
    serving = load_serving(distilbert_dir, num_threads=1)
    assert serving.predict_batch([]) == []
    with pytest.raises(TypeError, match="list of strings"):
        serving.predict_batch("not a list")  # type: ignore[arg-type]  # the wrong type is what is checked
    with pytest.raises(TypeError, match="list of strings"):
        serving.predict_batch(["fine", 3])  # type: ignore[list-item]  # the wrong type is what is checked
    long_text = "word " * 1000  # truncated to max_length, not an error
    assert len(serving.predict_batch([long_text, "short"])) == 2
    with pytest.raises(ValueError, match="num_threads"):
        load_serving(distilbert_dir, num_threads=0)


def test_default_model_not_built_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "DEFAULT_MODEL_DIR", tmp_path / "missing")
    with pytest.raises(ModelNotBuiltError, match=r"python -m mlcourse\.sentiment\.build"):
        load_serving()


def test_missing_folder_or_unreachable_hub_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="could not load"):
        load_serving(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        load_serving(tmp_path)  # a folder, but not a checkpoint


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlcourse.sentiment", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_hub_id_offline_fails_with_a_message_not_a_traceback(tmp_path):
    done = run_cli("--model", SST2_HUB_ID, "hello", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert SST2_HUB_ID in done.stderr and "HF_HUB_OFFLINE=1" in done.stderr


def test_cli_with_a_local_distilbert(distilbert_dir):
    done = run_cli("--model", str(distilbert_dir), "--num-threads", "1", "first", "second", HF_HUB_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["first", "second"]
    assert all(line["label"] in ("positive", "negative") and 0.5 <= line["score"] <= 1 for line in lines)

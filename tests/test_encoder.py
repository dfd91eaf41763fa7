"""The Flax NNX encoder: architecture detection, weight loading, parity with PyTorch.

The DistilBERT-base checkpoint is made here (random weights, saved with save_pretrained to a
temporary folder), so parity on that architecture needs no network and no build.
"""

import json

import numpy as np
import pytest

from mlcourse.encoder.config import EncoderConfig, EncoderLoadError, UnknownArchitectureError, checkpoint_folder
from mlcourse.encoder.parity import PARITY_TOLERANCE, compare, run_parity
from mlcourse.sentiment import DEFAULT_MODEL_DIR

# Short, empty, punctuated and far too long: padding, filler rows and truncation all appear.
TEXTS = ["I love this", "", "worst. flight. ever!!! " * 60, "ok", "the crew was lovely but the seat was broken", "meh"]

needs_default_model = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").is_file(),
    reason=f"default model not built at {DEFAULT_MODEL_DIR}: run `python -m mlcourse.sentiment.build`",
)


@pytest.fixture(scope="module")
def distilbert_base(tmp_path_factory):
    from mlcourse.encoder.standin import make_distilbert_standin
    from mlcourse.sentiment.finetune import base_model_dir

    return make_distilbert_standin(tmp_path_factory.mktemp("distilbert-base"), tokenizer_from=base_model_dir())


def test_an_unknown_architecture_is_refused_by_name(tmp_path):
    raw = {"architectures": ["RobertaForSequenceClassification"], "model_type": "roberta"}
    with pytest.raises(UnknownArchitectureError, match="RobertaForSequenceClassification"):
        EncoderConfig.from_dict(raw)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    (tmp_path / "model.safetensors").write_bytes(b"")
    from mlcourse.encoder.weights import load_model

    with pytest.raises(UnknownArchitectureError):
        load_model(tmp_path)


def test_a_folder_without_safetensors_or_an_unreachable_hub_id_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EncoderLoadError, match=r"model\.safetensors"):
        checkpoint_folder(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: nothing to fall back on
    with pytest.raises(EncoderLoadError, match="hub"):
        checkpoint_folder("nobody-here/no-such-model")


def test_a_missing_or_misshapen_weight_names_the_tensor(distilbert_base):
    from mlcourse.encoder.weights import build_model, read_safetensors

    config = EncoderConfig.from_folder(distilbert_base)
    tensors = read_safetensors(distilbert_base / "model.safetensors")
    name = "distilbert.transformer.layer.3.ffn.lin1.weight"
    with pytest.raises(EncoderLoadError, match=name):
        build_model(config, {key: value for key, value in tensors.items() if key != name})
    with pytest.raises(EncoderLoadError, match="shape"):
        build_model(config, {**tensors, name: np.zeros((3, 3), np.float32)})


def test_distilbert_base_logits_match_pytorch_padding_included(distilbert_base):
    from mlcourse.encoder.serving import load_jax_serving
    from mlcourse.sentiment.loading import load_classifier

    serving = load_jax_serving(distilbert_base, batch_sizes=(4,), buckets=(16, 128))  # short texts; truncation
    assert serving.config.family == "distilbert" and serving.config.num_layers == 6
    torch_model = load_classifier(distilbert_base).model
    for texts in (TEXTS[:2], TEXTS):  # bucket 16 with two filler rows; bucket 128, truncated, two batches
        worst, agreement = compare(serving, torch_model, texts)
        assert worst <= PARITY_TOLERANCE, f"DistilBERT logits differ from PyTorch's by {worst:.2e} (> 1e-4)"
        assert agreement == 1.0


@needs_default_model
@pytest.mark.timeout(600)  # seconds on an idle 2-core box; generous for a shared one
def test_default_model_matches_pytorch_on_1000_held_out_tweets():
    result = run_parity()
    assert result.family == "bert" and result.texts == 1000
    assert result.max_abs_logit_diff <= PARITY_TOLERANCE, f"MiniLM logits differ by {result.max_abs_logit_diff:.2e}"
    assert result.label_agreement == 1.0, f"labels agree on only {result.label_agreement:.1%} of held-out tweets"

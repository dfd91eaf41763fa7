"""safetensors -> NNX parameters with numpy alone: no PyTorch at run time.

A checkpoint is a flat ``{name: array}`` file; an NNX model is a pytree of ``nnx.Param``. Loading is a
table from one to the other (:func:`parameter_sources`) plus two conventions: ``torch.nn.Linear``
stores ``weight`` as ``[out, in]`` where ``nnx.Linear`` keeps ``kernel`` as ``[in, out]`` (transpose),
and LayerNorm's ``weight`` is NNX's ``scale``. Every parameter must be found with its exact shape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mlcourse.encoder.config import EncoderConfig, EncoderLoadError, checkpoint_folder

# (our module path, checkpoint prefix) per family; "{i}" is the layer index.
_EMBEDDINGS = {
    "bert": [
        ("embeddings.word", "bert.embeddings.word_embeddings", "embed"),
        ("embeddings.position", "bert.embeddings.position_embeddings", "embed"),
        ("embeddings.token_type", "bert.embeddings.token_type_embeddings", "embed"),
        ("embeddings.norm", "bert.embeddings.LayerNorm", "norm"),
    ],
    "distilbert": [
        ("embeddings.word", "distilbert.embeddings.word_embeddings", "embed"),
        ("embeddings.position", "distilbert.embeddings.position_embeddings", "embed"),
        ("embeddings.norm", "distilbert.embeddings.LayerNorm", "norm"),
    ],
}
_LAYER = {
    "bert": [
        ("attention.query", "bert.encoder.layer.{i}.attention.self.query", "linear"),
        ("attention.key", "bert.encoder.layer.{i}.attention.self.key", "linear"),
        ("attention.value", "bert.encoder.layer.{i}.attention.self.value", "linear"),
        ("attention.output", "bert.encoder.layer.{i}.attention.output.dense", "linear"),
        ("attention_norm", "bert.encoder.layer.{i}.attention.output.LayerNorm", "norm"),
        ("intermediate", "bert.encoder.layer.{i}.intermediate.dense", "linear"),
        ("output", "bert.encoder.layer.{i}.output.dense", "linear"),
        ("output_norm", "bert.encoder.layer.{i}.output.LayerNorm", "norm"),
    ],
    "distilbert": [
        ("attention.query", "distilbert.transformer.layer.{i}.attention.q_lin", "linear"),
        ("attention.key", "distilbert.transformer.layer.{i}.attention.k_lin", "linear"),
        ("attention.value", "distilbert.transformer.layer.{i}.attention.v_lin", "linear"),
        ("attention.output", "distilbert.transformer.layer.{i}.attention.out_lin", "linear"),
        ("attention_norm", "distilbert.transformer.layer.{i}.sa_layer_norm", "norm"),
        ("intermediate", "distilbert.transformer.layer.{i}.ffn.lin1", "linear"),
        ("output", "distilbert.transformer.layer.{i}.ffn.lin2", "linear"),
        ("output_norm", "distilbert.transformer.layer.{i}.output_layer_norm", "norm"),
    ],
}
_HEAD = {
    "bert": [("head.pooler", "bert.pooler.dense", "linear"), ("head.classifier", "classifier", "linear")],
    "distilbert": [("head.pooler", "pre_classifier", "linear"), ("head.classifier", "classifier", "linear")],
}
# NNX parameter name -> (checkpoint suffix, older checkpoints' suffix, transpose?) by module kind.
_KIND: dict[str, dict[str, tuple[str, str | None, bool]]] = {
    "linear": {"kernel": ("weight", None, True), "bias": ("bias", None, False)},
    "norm": {"scale": ("weight", "gamma", False), "bias": ("bias", "beta", False)},
    "embed": {"embedding": ("weight", None, False)},
}


def parameter_sources(config: EncoderConfig) -> Iterator[tuple[tuple, tuple[str, ...], bool]]:
    """``(our parameter path, candidate checkpoint names, transpose?)`` for every parameter of the model."""
    modules = list(_EMBEDDINGS[config.family])
    for i in range(config.num_layers):
        modules += [(f"layers.{i}.{ours}", theirs.format(i=i), kind) for ours, theirs, kind in _LAYER[config.family]]
    modules += _HEAD[config.family]
    for ours, theirs, kind in modules:
        path = tuple(int(part) if part.isdigit() else part for part in ours.split("."))
        for name, (suffix, old_suffix, transpose) in _KIND[kind].items():
            candidates = (f"{theirs}.{suffix}",) + ((f"{theirs}.{old_suffix}",) if old_suffix else ())
            yield (*path, name), candidates, transpose


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path))


def load_model(model: str | os.PathLike[str]):
    """``(SequenceClassifier with the checkpoint's weights, EncoderConfig, folder)`` from a folder or hub id."""
    folder = checkpoint_folder(model)
    config = EncoderConfig.from_folder(folder)
    return build_model(config, read_safetensors(folder / "model.safetensors")), config, folder


def build_model(config: EncoderConfig, tensors: dict[str, np.ndarray]):
    """The NNX model's abstract shapes (``nnx.eval_shape``: nothing initialised), filled from ``tensors``."""
    import jax.numpy as jnp
    from flax import nnx

    from mlcourse.encoder.modules import SequenceClassifier

    abstract = nnx.eval_shape(lambda: SequenceClassifier(config, rngs=nnx.Rngs(0)))
    graphdef, state = nnx.split(abstract)
    values = nnx.to_pure_dict(state)
    for path, candidates, transpose in parameter_sources(config):
        name = next((candidate for candidate in candidates if candidate in tensors), None)
        if name is None:
            raise EncoderLoadError(f"the checkpoint has no {candidates[0]} (a {config.family} classifier needs it)")
        array = tensors[name].T if transpose else tensors[name]
        slot = values
        for key in path[:-1]:
            slot = slot[key]
        expected = slot[path[-1]]
        if tuple(array.shape) != tuple(expected.shape):
            raise EncoderLoadError(f"{name} has shape {array.shape}, the config implies {expected.shape}")
        slot[path[-1]] = jnp.asarray(array, dtype=expected.dtype)
    nnx.replace_by_pure_dict(state, values)
    return nnx.merge(graphdef, state)

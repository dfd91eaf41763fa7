"""The encoder in Flax NNX: embeddings, self-attention, a post-LayerNorm encoder layer, a classification head.

Written out by hand on purpose (notebook 09 reads it line by line); every shape is
``[batch, sequence, features]``. Parameters are created with ``nnx.eval_shape`` and filled
from a checkpoint by :mod:`mlcourse.encoder.weights`, so no random init is ever paid for.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from mlcourse.encoder.config import EncoderConfig

ACTIVATIONS = {
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),  # BERT's "gelu" is the exact (erf) one
    "gelu_new": lambda x: jax.nn.gelu(x, approximate=True),
    "gelu_pytorch_tanh": lambda x: jax.nn.gelu(x, approximate=True),
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not implemented; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def attention_bias(attention_mask: jax.Array, dtype=jnp.float32) -> jax.Array:
    """``[batch, 1, 1, keys]``: 0 where a key is a real token, the most negative float where it is padding.

    Added to the scores before the softmax, so padding gets zero weight; a finite minimum (not -inf)
    keeps an all-padding filler row finite instead of NaN.
    """
    return jnp.where(attention_mask[:, None, None, :] > 0, 0.0, jnp.finfo(dtype).min).astype(dtype)


class Embeddings(nnx.Module):
    """Token + position (+ token type) embeddings, then LayerNorm."""

    def __init__(self, config: EncoderConfig, *, rngs: nnx.Rngs) -> None:
        self.word = nnx.Embed(config.vocab_size, config.hidden_size, rngs=rngs)
        self.position = nnx.Embed(config.max_positions, config.hidden_size, rngs=rngs)
        self.token_type = (
            nnx.Embed(config.type_vocab_size, config.hidden_size, rngs=rngs) if config.type_vocab_size else None
        )
        self.norm = nnx.LayerNorm(config.hidden_size, epsilon=config.layer_norm_eps, rngs=rngs)

    def __call__(self, input_ids: jax.Array, token_type_ids: jax.Array | None) -> jax.Array:
        positions = jnp.arange(input_ids.shape[1])[None, :]
        hidden = self.word(input_ids) + self.position(positions)
        if self.token_type is not None:
            hidden = hidden + self.token_type(jnp.zeros_like(input_ids) if token_type_ids is None else token_type_ids)
        return self.norm(hidden)


class SelfAttention(nnx.Module):
    """Multi-head scaled dot-product attention over the whole sequence, padding masked out."""

    def __init__(self, config: EncoderConfig, *, rngs: nnx.Rngs) -> None:
        size = config.hidden_size
        self.num_heads, self.head_size = config.num_heads, config.head_size
        self.query = nnx.Linear(size, size, rngs=rngs)
        self.key = nnx.Linear(size, size, rngs=rngs)
        self.value = nnx.Linear(size, size, rngs=rngs)
        self.output = nnx.Linear(size, size, rngs=rngs)

    def split_heads(self, x: jax.Array) -> jax.Array:
        return x.reshape(*x.shape[:2], self.num_heads, self.head_size)  # [batch, seq, heads, head_size]

    def __call__(self, hidden: jax.Array, bias: jax.Array) -> jax.Array:
        q, k, v = (self.split_heads(layer(hidden)) for layer in (self.query, self.key, self.value))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.head_size) + bias
        weights = jax.nn.softmax(scores, axis=-1)
        context = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(hidden.shape)
        return self.output(context)


class EncoderLayer(nnx.Module):
    """Attention, add & norm, feed-forward, add & norm (post-LayerNorm, as BERT and DistilBERT are)."""

    def __init__(self, config: EncoderConfig, *, rngs: nnx.Rngs) -> None:
        self.attention = SelfAttention(config, rngs=rngs)
        self.attention_norm = nnx.LayerNorm(config.hidden_size, epsilon=config.layer_norm_eps, rngs=rngs)
        self.intermediate = nnx.Linear(config.hidden_size, config.intermediate_size, rngs=rngs)
        self.output = nnx.Linear(config.intermediate_size, config.hidden_size, rngs=rngs)
        self.output_norm = nnx.LayerNorm(config.hidden_size, epsilon=config.layer_norm_eps, rngs=rngs)
        self.activation = config.activation

    def __call__(self, hidden: jax.Array, bias: jax.Array) -> jax.Array:
        hidden = self.attention_norm(hidden + self.attention(hidden, bias))
        feed_forward = self.output(activation(self.activation)(self.intermediate(hidden)))
        return self.output_norm(hidden + feed_forward)


class ClassificationHead(nnx.Module):
    """The first token's hidden state -> dense + activation (BERT's pooler, DistilBERT's pre-classifier) -> logits."""

    def __init__(self, config: EncoderConfig, *, rngs: nnx.Rngs) -> None:
        self.pooler = nnx.Linear(config.hidden_size, config.hidden_size, rngs=rngs)
        self.classifier = nnx.Linear(config.hidden_size, config.num_labels, rngs=rngs)
        self.activation = config.pooler_activation

    def __call__(self, hidden: jax.Array) -> jax.Array:
        return self.classifier(activation(self.activation)(self.pooler(hidden[:, 0])))


class SequenceClassifier(nnx.Module):
    """``(input_ids, attention_mask, token_type_ids) -> logits [batch, num_labels]``; dropout is absent (inference)."""

    def __init__(self, config: EncoderConfig, *, rngs: nnx.Rngs) -> None:
        self.embeddings = Embeddings(config, rngs=rngs)
        self.layers = nnx.List([EncoderLayer(config, rngs=rngs) for _ in range(config.num_layers)])
        self.head = ClassificationHead(config, rngs=rngs)

    def __call__(
        self, input_ids: jax.Array, attention_mask: jax.Array, token_type_ids: jax.Array | None = None
    ) -> jax.Array:
        hidden = self.embeddings(input_ids, token_type_ids)
        bias = attention_bias(attention_mask, hidden.dtype)
        for layer in self.layers:
            hidden = layer(hidden, bias)
        return self.head(hidden)

"""A 2-layer MLP in Flax NNX: features -> hidden (ReLU) -> one logit per class."""

from __future__ import annotations

import jax
from flax import nnx


class MLP(nnx.Module):
    """Two `nnx.Linear` layers with a ReLU between them."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, *, rngs: nnx.Rngs) -> None:
        raise NotImplementedError(
            "d3: MLP must hold two dense layers, in_features -> hidden -> n_classes, initialised from rngs. "
            "Taught in notebook 03, sections 2 and 7; stuck: README.md, Hints."
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits of shape (batch, n_classes) for a float batch of shape (batch, in_features)."""
        raise NotImplementedError(
            "d3: calling the MLP must give one logit per class for each row, with a ReLU between its two layers. "
            "Taught in notebook 03, sections 2 and 7; stuck: README.md, Hints."
        )

"""A 2-layer MLP in Flax NNX: features -> hidden (ReLU) -> one logit per class."""

from __future__ import annotations

import jax
from flax import nnx


class MLP(nnx.Module):
    """Two `nnx.Linear` layers with a ReLU between them."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, *, rngs: nnx.Rngs) -> None:
        self.hidden = nnx.Linear(in_features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, n_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits of shape (batch, n_classes) for a float batch of shape (batch, in_features)."""
        return self.out(nnx.relu(self.hidden(x)))

"""Train the MLP with optax Adam: a jitted step on shuffled mini-batches, metrics every epoch."""

from __future__ import annotations

import jax
from flax import nnx

from mlcourse.tabular.contract import Prepared, TrainResult

from .model import MLP


def loss_fn(model: MLP, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean softmax cross-entropy of the model's logits against integer labels, and the logits."""
    raise NotImplementedError("d3: return (optax.softmax_cross_entropy_with_integer_labels(...).mean(), logits)")


@nnx.jit
def train_step(model: MLP, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array) -> jax.Array:
    """One Adam update on one batch; returns the batch loss. Model and optimizer change in place."""
    raise NotImplementedError("d3: take nnx.value_and_grad of loss_fn and call optimizer.update(model, grads)")


@nnx.jit
def evaluate(model: MLP, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Loss and accuracy (share of argmax logits equal to y) on a whole split."""
    raise NotImplementedError("d3: return the loss and the accuracy of the model on x, y")


def train(
    prepared: Prepared,
    *,
    hidden: int = 32,
    epochs: int = 60,
    batch_size: int = 32,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> TrainResult:
    """Fit a fresh MLP on the training split; report validation accuracy and wall time.

    Seed the model (`nnx.Rngs(seed)`) and the batch order, use `optax.adam(learning_rate)`,
    run `epochs` passes over shuffled mini-batches, and after each epoch append
    {"loss", "accuracy", "val_loss", "val_accuracy"} to the history. `train_seconds` is the
    wall time of the whole call, compilation included; `val_accuracy` is the last epoch's.
    """
    raise NotImplementedError("d3: build the MLP and an nnx.Optimizer, loop over epochs and batches, time it")

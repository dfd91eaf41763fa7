"""Train the MLP with optax Adam: a jitted step on shuffled mini-batches, metrics every epoch."""

from __future__ import annotations

import jax
from flax import nnx

from mlcourse.tabular.contract import Prepared, TrainResult

from .model import MLP


def loss_fn(model: MLP, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean softmax cross-entropy of the model's logits against integer labels, and the logits."""
    raise NotImplementedError(
        "d3: loss_fn must return the mean softmax cross-entropy of the logits against the integer labels, and the "
        "logits. Taught in notebook 03, section 7; stuck: README.md, Hints."
    )


@nnx.jit
def train_step(model: MLP, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array) -> jax.Array:
    """One Adam update on one batch; returns the batch loss. Model and optimizer change in place."""
    raise NotImplementedError(
        "d3: train_step must apply one Adam update of the model on one batch, in place, and return the batch "
        "loss. Taught in notebook 03, section 3; stuck: README.md, Hints."
    )


@nnx.jit
def evaluate(model: MLP, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Loss and accuracy (share of argmax logits equal to y) on a whole split."""
    raise NotImplementedError(
        "d3: evaluate must return the loss and the accuracy (the share of rows whose largest logit is the label) "
        "on a whole split. Taught in notebook 03, sections 3 and 7; stuck: README.md, Hints."
    )


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

    The same `seed` gives the same model and batch order; Adam runs at `learning_rate` for `epochs`
    passes over shuffled mini-batches of `batch_size` rows, and each epoch adds
    {"loss", "accuracy", "val_loss", "val_accuracy"} to the history. `train_seconds` is the
    wall time of the whole call, compilation included; `val_accuracy` is the last epoch's.
    """
    raise NotImplementedError(
        "d3: train must fit a fresh, seeded MLP on the training split with Adam over shuffled mini-batches and "
        "return a TrainResult (validation accuracy, wall time, history per epoch, model). Taught in notebook 03, "
        "section 4; stuck: README.md, Hints."
    )

"""The course's Bumblebee: a BERT-family encoder in Flax NNX, loaded from safetensors, compiled per shape bucket.

- ``config``: read ``config.json``, detect BERT or DistilBERT, refuse anything else.
- ``modules``: the NNX modules (embeddings, attention, encoder layer, classification head).
- ``weights``: safetensors -> NNX parameters, with numpy only (no PyTorch at run time).
- ``serving``: ``CompiledServing.predict_batch``: a few batch sizes and sequence-length buckets,
  every pair compiled ahead of time at load, like ``Nx.Serving`` with ``compile: [...]``; on a GPU where JAX sees one.
- ``threads``: how many cores XLA's CPU pool gets (set before JAX starts).
- ``python -m mlcourse.encoder parity --model PATH_OR_ID``: logits and labels against PyTorch.
- ``python -m mlcourse.encoder bench``: latency per bucket and backend, compile times, d1 at 100 req/s per policy.

Importing this package is cheap: JAX and Flax load on first use.
"""

from mlcourse.encoder.config import EncoderConfig, EncoderLoadError, UnknownArchitectureError

__all__ = ["EncoderConfig", "EncoderLoadError", "UnknownArchitectureError"]

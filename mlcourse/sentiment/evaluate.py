"""How good the fine-tuned model is: held-out accuracy, and a TF-IDF baseline on the same split."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcourse.sentiment.data import Split
from mlcourse.sentiment.finetune import TrainConfig, encode

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def baseline_accuracy(split: Split) -> float:
    """TF-IDF on word 1-2 grams + logistic regression, settings fixed in advance (not tuned on the test set)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    classifier = LogisticRegression(C=10.0, max_iter=1000)
    classifier.fit(vectorizer.fit_transform(split.train["text"].to_list()), split.train["label"].to_numpy())
    predicted = classifier.predict(vectorizer.transform(split.test["text"].to_list()))
    return float((predicted == split.test["label"].to_numpy()).mean())


def held_out_accuracy(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str], labels: list[int], config: TrainConfig
) -> float:
    """Accuracy on the test split, batched by length (order does not change accuracy)."""
    import torch
    from tqdm.auto import tqdm

    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    correct = 0
    with torch.inference_mode():
        for start in tqdm(range(0, len(order), 128), desc="held-out accuracy", unit="batch", mininterval=2.0):
            batch = order[start : start + 128]
            logits = model(**encode(tokenizer, [texts[i] for i in batch], config.max_length)).logits
            correct += sum(int(p == labels[i]) for p, i in zip(logits.argmax(-1).tolist(), batch, strict=True))
    return correct / max(len(texts), 1)

"""The tweets preparation: repaired text, two labels, no duplicates, a seeded stratified split."""

import polars as pl
import pytest

from mlcourse.sentiment.data import clean_text, load_tweets, stratified_split


def clean(text: str) -> str:
    return pl.select(clean_text(pl.lit(text))).item()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I don\u0562_\ufffd\ufffd_\ufffd\ufffdt want it", "I don't want it"),  # garbled curly apostrophe
        ("cars_\ufffd_.no thank you", "cars .no thank you"),  # garbled emoji
        ("\u0562_\ufffd\u0381\ufffd@user: hi \u0562_\ufffd\ufffd\ufffd", "@user: hi"),  # garbled quotes
        ("fish &amp; chips &lt;3", "fish & chips <3"),
        ("  two   spaces ", "two spaces"),
    ],
)
def test_clean_text_repairs_broken_encodings(raw, expected):
    assert clean(raw) == expected


@pytest.fixture(scope="module")
def tweets() -> pl.DataFrame:
    return load_tweets()


def test_tweets_are_clean_binary_and_unique(tweets):
    assert tweets.columns == ["text", "label"]
    assert set(tweets["label"].unique()) == {0, 1}
    assert 20_000 < tweets.height < 24_000  # about 23,000 positive and negative tweets
    assert 0.25 < tweets["label"].mean() < 0.35  # majority class (negative) about 70%
    assert tweets["text"].n_unique() == tweets.height
    assert not tweets["text"].str.contains(r"[^\x00-\x7F]").any()
    assert (tweets["text"].str.len_chars() > 0).all()


def test_split_is_stratified_disjoint_and_seeded(tweets):
    split = stratified_split(tweets, test_fraction=0.2, seed=0)
    assert split.train.height + split.test.height == tweets.height
    assert abs(split.test.height / tweets.height - 0.2) < 0.001
    assert abs(split.train["label"].mean() - split.test["label"].mean()) < 0.002
    assert set(split.train["text"]).isdisjoint(split.test["text"])
    assert stratified_split(tweets, seed=0).test.equals(split.test)
    assert not stratified_split(tweets, seed=1).test.equals(split.test)

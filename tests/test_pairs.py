"""The sentence-pair data of lessons 05 and 06 (offline task: same / different sentiment)."""

from __future__ import annotations

import os
from collections import Counter

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from tutorial_utils import pairs  # noqa: E402


@pytest.fixture(scope="module")
def reviews():
    from tutorial_utils import load_reviews

    return load_reviews(verbose=False)


@pytest.fixture(scope="module")
def pair_data():
    return pairs.load_pairs(seed=0, verbose=False)


def test_make_sentiment_pairs_labels_and_balance():
    texts = [f"p{i}" for i in range(30)] + [f"n{i}" for i in range(20)]
    labels = [1] * 30 + [0] * 20
    columns = pairs.make_sentiment_pairs(texts, labels, seed=3)
    truth = dict(zip(texts, labels, strict=True))
    counts = Counter(columns["label"])
    assert counts[0] == counts[1] > 0
    used = columns["sentence1"] + columns["sentence2"]
    assert len(used) == len(set(used)), "a sentence is used in two pairs"
    for a, b, y in zip(columns["sentence1"], columns["sentence2"], columns["label"], strict=True):
        assert y == int(truth[a] == truth[b])
    # with 30 positives and 20 negatives, as many pairs as possible: 12 + 12 (4+... leftovers)
    assert counts[0] == 12


def test_make_sentiment_pairs_is_seeded():
    texts = [f"s{i}" for i in range(40)]
    labels = [i % 2 for i in range(40)]
    assert pairs.make_sentiment_pairs(texts, labels, seed=1) == pairs.make_sentiment_pairs(
        texts, labels, seed=1
    )
    assert pairs.make_sentiment_pairs(texts, labels, seed=1) != pairs.make_sentiment_pairs(
        texts, labels, seed=2
    )
    with pytest.raises(ValueError):
        pairs.make_sentiment_pairs(texts, labels[:-1])


def test_structure(pair_data):
    assert list(pair_data) == ["train", "validation", "test"]
    for split in pair_data.values():
        assert split.column_names == ["sentence1", "sentence2", "label"]
        assert split.features["label"].names == pairs.REVIEW_PAIR_LABEL_NAMES
        assert len(split) > 0
    assert len(pair_data["train"]) > len(pair_data["validation"])


def test_balanced(pair_data):
    for split in pair_data.values():
        counts = Counter(split["label"])
        assert counts[0] == counts[1]


def test_no_sentence_shared_across_splits(pair_data):
    seen = {}
    for name, split in pair_data.items():
        sentences = set(split["sentence1"]) | set(split["sentence2"])
        for other, other_sentences in seen.items():
            assert not sentences & other_sentences, f"{name} and {other} share sentences"
        seen[name] = sentences


def test_labels_correct_by_construction(pair_data, reviews):
    for name in ("train", "validation", "test"):
        # a sentence text may occur twice in Rotten Tomatoes with one label each time: skip those
        sentiment: dict[str, set[int]] = {}
        for text, label in zip(reviews[name]["text"], reviews[name]["label"], strict=True):
            sentiment.setdefault(text, set()).add(label)
        split = pair_data[name]
        checked = 0
        for a, b, y in zip(split["sentence1"], split["sentence2"], split["label"], strict=True):
            if len(sentiment[a]) == 1 and len(sentiment[b]) == 1:
                assert y == int(sentiment[a] == sentiment[b])
                checked += 1
        assert checked >= 0.95 * len(split)


def test_deterministic_and_size(pair_data):
    again = pairs.load_pairs(seed=0, verbose=False)
    assert again["validation"]["sentence1"] == pair_data["validation"]["sentence1"]
    small = pairs.load_pairs(seed=0, size=40, verbose=False)
    for split in small.values():
        assert len(split) == 40
        assert Counter(split["label"]) == {0: 20, 1: 20}


def test_prints_which_task_and_the_reason_once(capsys, monkeypatch):
    from tutorial_utils import hub_mode

    monkeypatch.setattr(hub_mode, "REASONS_SHOWN", set())
    pairs.load_pairs(seed=0, size=10)
    first = capsys.readouterr().out.strip()
    pairs.load_pairs(seed=0, size=10)
    second = capsys.readouterr().out.strip()
    assert "same-sentiment pairs" in first and "(offline: " in first
    assert "same-sentiment pairs" in second and "(offline: " not in second

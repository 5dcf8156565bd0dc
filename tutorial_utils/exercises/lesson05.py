"""Checks of lesson 05 (datasets): a filter and its effect, counting labels, pair lengths."""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import Hint, exercise, require

SHORT_WORDS = 8  # "short" reviews have fewer than this many words (split on whitespace)
PAIR_MAX_TOKENS = 64


def _is_dataset(answer: Any) -> bool:
    return hasattr(answer, "column_names") and hasattr(answer, "features")


@exercise("05.short_reviews")
def check_short_reviews(short: Any, share: Any, source: Any) -> None:
    """``short`` = rows of ``source`` with fewer than 8 words (``filter``); ``share`` = their
    share of positive labels."""
    require(_is_dataset(short), "return a datasets.Dataset: use `split.filter(...)`.")
    require(
        "text" in short.column_names and "label" in short.column_names,
        "keep the columns: `filter` returns rows with every column, do not `map` them away.",
    )
    too_long = [t for t in short["text"] if len(t.split()) >= SHORT_WORDS]
    require(
        not too_long,
        f"{len(too_long)} kept rows have {SHORT_WORDS} words or more, e.g. {too_long[:1]}: "
        f"keep `len(example['text'].split()) < {SHORT_WORDS}`.",
    )
    expected = sum(len(t.split()) < SHORT_WORDS for t in source["text"])
    require(
        len(short) == expected,
        f"{len(short)} rows kept but the split has {expected} reviews of fewer than "
        f"{SHORT_WORDS} words: filter the whole split given to the check.",
    )
    try:
        share = float(share)
    except (TypeError, ValueError) as error:
        raise Hint("short_positive_share should be one number between 0 and 1.") from error
    positive = short.features["label"].str2int("pos")
    labels = list(short["label"])
    expected_share = sum(label == positive for label in labels) / len(labels)
    require(
        not (share > 1 and abs(share / 100 - expected_share) < 1e-6),
        "give the share as a fraction between 0 and 1, not a percentage.",
    )
    require(
        abs(share - (1 - expected_share)) > 1e-9 or abs(expected_share - 0.5) < 1e-9,
        "that is the share of *negative* reviews: count the labels equal to "
        "features['label'].str2int('pos').",
    )
    require(
        abs(share - expected_share) < 1e-6,
        f"the share of positives among the short reviews is not {share:.4f}: divide the "
        "number of positive labels of `short_reviews` by its number of rows.",
    )


@exercise("05.label_counts")
def check_label_counts(function: Any, split: Any) -> None:
    """``function(split)`` = ``{label name: number of rows}``, names from the ClassLabel."""
    require(callable(function), "pass the function itself (no parentheses): label_counts.")
    counts = function(split)
    require(isinstance(counts, dict), "return a dict like {'neg': ..., 'pos': ...}.")
    names = split.features["label"].names
    require(
        all(isinstance(key, str) for key in counts),
        f"use the label *names* as keys ({names}): `split.features['label'].int2str(i)`.",
    )
    expected = {names[i]: n for i, n in Counter(split["label"]).items()}
    require(
        set(counts) == set(expected),
        f"the keys should be exactly {sorted(expected)}, got {sorted(counts)}.",
    )
    wrong = {k: counts[k] for k in expected if counts[k] != expected[k]}
    require(not wrong, f"some counts are off: {wrong}. Count over the whole split given.")


@exercise("05.pair_lengths")
def check_pair_lengths(short_pairs: Any, source: Any, tokenizer: Any) -> None:
    """``short_pairs`` = ``source`` with a column ``n_tokens``, filtered to <= 64 tokens."""
    require(_is_dataset(short_pairs), "return the dataset that `.map(...).filter(...)` gives back.")
    require(
        "n_tokens" in short_pairs.column_names,
        "no 'n_tokens' column: the mapped function must return {'n_tokens': [...]}.",
    )
    require(
        "sentence1" in short_pairs.column_names and "sentence2" in short_pairs.column_names,
        "keep sentence1 and sentence2 (do not pass remove_columns).",
    )
    encoded = tokenizer(list(short_pairs["sentence1"]), list(short_pairs["sentence2"]))
    actual = [len(ids) for ids in encoded["input_ids"]]
    wrong = sum(a != n for a, n in zip(actual, short_pairs["n_tokens"], strict=True))
    if wrong:
        raise Hint(
            f"{wrong} rows have a wrong n_tokens: tokenise the two sentences together, "
            "tokenizer(batch['sentence1'], batch['sentence2']), with no truncation, and "
            "count len(ids) for each row's input_ids (special tokens included)."
        )
    require(
        all(n <= PAIR_MAX_TOKENS for n in short_pairs["n_tokens"]),
        f"some kept pairs have more than {PAIR_MAX_TOKENS} tokens: filter on n_tokens <= "
        f"{PAIR_MAX_TOKENS}.",
    )
    all_lengths = [
        len(ids)
        for ids in tokenizer(list(source["sentence1"]), list(source["sentence2"]))["input_ids"]
    ]
    expected = sum(n <= PAIR_MAX_TOKENS for n in all_lengths)
    require(
        len(short_pairs) == expected,
        f"{len(short_pairs)} pairs kept, expected {expected}: keep every pair with at most "
        f"{PAIR_MAX_TOKENS} tokens (<=, not <) from the split given to the check.",
    )

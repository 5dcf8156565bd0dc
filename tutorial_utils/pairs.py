"""Sentence-pair classification data: GLUE MRPC online, a real review-pair task offline.

The original write-up fine-tunes on GLUE MRPC (do two news sentences paraphrase each
other?). GLUE cannot be downloaded offline and no pair corpus ships on PyPI, so offline
:func:`load_pairs` builds a real pair task from the Rotten Tomatoes sentences of
:func:`tutorial_utils.load_reviews`: *do the two sentences share a sentiment?*

Either way the result has the same shape: a ``DatasetDict`` with ``train`` /
``validation`` / ``test`` splits and the columns ``sentence1``, ``sentence2`` (strings)
and ``label`` (a ``ClassLabel`` whose class 1 means "the pair matches": ``equivalent``
for MRPC, ``same`` for the review pairs), so lesson code runs unchanged on both.

How the offline pairs are built, split by split (so that no sentence appears in two
splits, because the review splits themselves are disjoint):

- the split's sentences are shuffled with ``seed`` and each is used in at most one pair;
- "different" pairs join one positive and one negative sentence (which of the two comes
  first is random); "same" pairs join two positives or two negatives;
- there are exactly as many "same" pairs as "different" pairs, so the majority baseline
  is 50 %; rows are shuffled.
"""

from __future__ import annotations

import random

from .env import quiet
from .hub_mode import hub_status, mode_note

MRPC_LABEL_NAMES = ["not_equivalent", "equivalent"]
REVIEW_PAIR_LABEL_NAMES = ["different", "same"]
SPLITS = ("train", "validation", "test")


def _features(label_names: list[str]):
    from datasets import ClassLabel, Features, Value

    return Features(
        {
            "sentence1": Value("string"),
            "sentence2": Value("string"),
            "label": ClassLabel(names=label_names),
        }
    )


def _balanced_cap(split, size: int | None, seed: int):
    """At most ``size`` rows of ``split`` with the label proportions kept (seeded)."""
    if size is None or size >= len(split):
        return split
    if size < 2:
        raise ValueError(f"size must be at least 2 (one pair per class), got {size}")
    # train_test_split with stratify keeps the label balance of the kept part.
    kept = split.train_test_split(train_size=size, seed=seed, stratify_by_column="label")
    return kept["train"]


def _mrpc(seed: int):
    """GLUE MRPC from the Hub, with columns sentence1, sentence2, label (idx dropped)."""
    from datasets import DatasetDict, load_dataset

    raw = load_dataset("glue", "mrpc")
    splits = {}
    for name in SPLITS:
        split = raw[name]
        split = split.remove_columns(
            [c for c in split.column_names if c not in ("sentence1", "sentence2", "label")]
        )
        splits[name] = split.cast(_features(MRPC_LABEL_NAMES))
    if min(splits["test"]["label"]) < 0:  # a test split without labels: carve one out of validation
        halves = splits["validation"].train_test_split(
            test_size=0.5, seed=seed, stratify_by_column="label"
        )
        splits["validation"], splits["test"] = halves["train"], halves["test"]
    return DatasetDict(splits)


def make_sentiment_pairs(texts: list[str], labels: list[int], seed: int = 0) -> dict[str, list]:
    """Balanced "same / different sentiment" pairs from one split's sentences.

    Returns columns ``sentence1``, ``sentence2``, ``label`` (1 = same sentiment, 0 =
    different). Every sentence is used at most once; the numbers of label 0 and label 1
    pairs are equal; the order of rows and of the two sentences in a pair is seeded-random.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    rng = random.Random(seed)
    pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
    neg = [t for t, y in zip(texts, labels, strict=True) if y == 0]
    rng.shuffle(pos)
    rng.shuffle(neg)
    # k "different" pairs use k positives and k negatives; the rest make "same" pairs.
    # Choose k as large as possible while the leftovers still give k "same" pairs.
    k = 0
    for candidate in range(min(len(pos), len(neg)), -1, -1):
        if (len(pos) - candidate) // 2 + (len(neg) - candidate) // 2 >= candidate:
            k = candidate
            break
    rows: list[tuple[str, str, int]] = []
    for a, b in zip(pos[:k], neg[:k], strict=True):
        rows.append((a, b, 0) if rng.random() < 0.5 else (b, a, 0))
    left_pos, left_neg = pos[k:], neg[k:]
    same_pos = [(left_pos[i], left_pos[i + 1], 1) for i in range(0, len(left_pos) - 1, 2)]
    same_neg = [(left_neg[i], left_neg[i + 1], 1) for i in range(0, len(left_neg) - 1, 2)]
    # Take k "same" pairs, alternating positive and negative ones so both kinds appear.
    same: list[tuple[str, str, int]] = []
    while len(same) < k:
        if same_pos and (len(same) % 2 == 0 or not same_neg):
            same.append(same_pos.pop())
        elif same_neg:
            same.append(same_neg.pop())
        else:  # pragma: no cover - k was chosen so this cannot happen
            break
    rows.extend(same)
    rng.shuffle(rows)
    return {
        "sentence1": [r[0] for r in rows],
        "sentence2": [r[1] for r in rows],
        "label": [r[2] for r in rows],
    }


def _review_pairs(seed: int):
    """The offline pair task, built from the Rotten Tomatoes splits of load_reviews."""
    from datasets import Dataset, DatasetDict

    from .data import load_reviews

    reviews = load_reviews(seed=seed, verbose=False)
    features = _features(REVIEW_PAIR_LABEL_NAMES)
    splits = {}
    for offset, name in enumerate(SPLITS):
        split = reviews[name]
        columns = make_sentiment_pairs(split["text"], split["label"], seed=seed + offset)
        splits[name] = Dataset.from_dict(columns, features=features)
    return DatasetDict(splits)


def load_pairs(seed: int = 0, size: int | None = None, verbose: bool = True):
    """A sentence-pair ``DatasetDict`` (train / validation / test), online or offline.

    Online: GLUE MRPC (``load_dataset("glue", "mrpc")``, labels ``not_equivalent`` /
    ``equivalent``). Offline, or if that load fails for any reason: pairs of Rotten
    Tomatoes sentences labelled ``different`` / ``same`` by whether they share a
    sentiment, built within each split of :func:`~tutorial_utils.load_reviews` so no
    sentence appears in two splits, balanced, fixed by ``seed`` (see the module docstring).

    Columns: ``sentence1``, ``sentence2`` (strings), ``label`` (``ClassLabel``; 1 is the
    "match" class in both tasks). ``size`` caps every split at that many pairs, keeping
    the label proportions. Prints one line saying which task was loaded and why.
    """
    quiet()
    reachable, reason = hub_status()
    pairs = None
    if reachable:
        try:
            pairs = _mrpc(seed)
            where = "GLUE MRPC paraphrase pairs from the Hub" + mode_note(True, reason)
        except Exception as error:  # noqa: BLE001 - any failure: use the offline task
            where = (
                "same-sentiment pairs of Rotten Tomatoes sentences "
                f"(online load of glue/mrpc failed: {str(error)[:80]})"
            )
    else:
        where = "same-sentiment pairs of Rotten Tomatoes sentences" + mode_note(False, reason)
    if pairs is None:
        pairs = _review_pairs(seed)
    if size is not None:
        from datasets import DatasetDict

        pairs = DatasetDict(
            {name: _balanced_cap(split, size, seed) for name, split in pairs.items()}
        )
    if verbose:
        sizes = ", ".join(f"{name} {len(split):,}" for name, split in pairs.items())
        print(f"pairs from {where}: {sizes}")
    return pairs

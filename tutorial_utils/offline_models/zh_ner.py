"""The offline ``zh-ner`` model: a small BERT trained from scratch for Chinese named entities.

Characters of People's Daily (January 1998, :func:`tutorial_utils.load_chinese_ner`) with
BIO tags for persons, places and organisations (``O, B-PER, I-PER, B-LOC, I-LOC, B-ORG,
I-ORG``). A 2-layer, 128-wide ``BertForTokenClassification`` with the character vocabulary
of :mod:`.zh_vocab`, trained for a fixed number of steps; the build measures entity-level
micro F1 with ``seqeval`` on the held-out test sentences (bar :data:`BAR`), and F1 per type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batching import length_batches
from .building import BuildRun, mean_of_last
from .sources import Built
from .zh_sentiment import small_bert_config
from .zh_vocab import VOCAB_SIZE, check_saved, train_char_vocab, training_texts, vocab_figures

ENTRY = "zh-ner-char-bert"
VERSION = "zh-ner-v2"
BAR = 0.55  # entity-level micro F1 (seqeval) on the held-out test sentences
IGNORE = -100  # the label the loss skips: special tokens and later pieces of a character


@dataclass(frozen=True)
class ZhNerRecipe:
    """How the Chinese NER model is trained (fixed steps, not a time budget)."""

    seed: int = 0
    vocab_size: int = VOCAB_SIZE
    layers: int = 2
    hidden: int = 128
    heads: int = 2
    max_length: int = 128
    batch_size: int = 32
    steps: int = 2500
    lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    eval_batch_size: int = 128


RECIPE = ZhNerRecipe()


def align_labels(word_ids: Sequence[int | None], labels: Sequence[int]) -> list[int]:
    """Token labels from character labels: the first token of each character gets its label,
    special tokens and later tokens of the same character get -100 (the loss ignores them)."""
    aligned, previous = [], None
    for word in word_ids:
        aligned.append(IGNORE if word is None or word == previous else labels[word])
        previous = word
    return aligned


def encode(tokenizer, chars: Sequence[Sequence[str]], max_length: int):
    """Tokenise character lists (``is_split_into_words``), truncated to ``max_length``."""
    return tokenizer(
        [list(c) for c in chars], is_split_into_words=True, truncation=True, max_length=max_length
    )


def predict_tags(
    model, tokenizer, chars: Sequence[Sequence[str]], batch_size=128, max_length=128
) -> list[list[str]]:
    """Predicted BIO tags, one per character (``O`` where a character has no token)."""
    import torch

    model.eval()
    names = model.config.id2label
    encoded = encode(tokenizer, chars, max_length)
    ids = encoded["input_ids"]
    tags: list[list[str]] = [["O"] * len(c) for c in chars]
    with torch.no_grad():
        for batch in length_batches([len(x) for x in ids], batch_size):
            features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            best = model(**features.to(model.device)).logits.argmax(-1).cpu().tolist()
            for row, i in zip(best, batch, strict=True):
                previous = None
                for position, word in enumerate(encoded.word_ids(i)):
                    if word is not None and word != previous:
                        tags[i][word] = names[row[position]]
                    previous = word
    return tags


def entity_f1(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Entity-level F1 (``seqeval``): ``micro`` and one per entity type."""
    from seqeval.metrics import classification_report, f1_score

    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    per_type = {k: round(v["f1-score"], 4) for k, v in report.items() if "avg" not in k}
    return {"micro": round(f1_score(gold, predicted), 4), **per_type}


def window_features(chars: Sequence[str], width: int = 2) -> list[list[str]]:
    """Features of each character: itself, its neighbours up to ``width`` away (by offset),
    and the two character pairs it belongs to; ``<s>`` and ``</s>`` pad the sentence ends."""
    padded = ["<s>"] * width + list(chars) + ["</s>"] * width
    rows = []
    for i in range(width, width + len(chars)):
        row = [f"{k}:{padded[i + k]}" for k in range(-width, width + 1)]
        row += [f"-1,0:{padded[i - 1]}{padded[i]}", f"0,1:{padded[i]}{padded[i + 1]}"]
        rows.append(row)
    return rows


def fit_window_baseline(
    train_chars: Sequence[Sequence[str]],
    train_tags: Sequence[Sequence[str]],
    width: int = 2,
) -> Callable[[Sequence[Sequence[str]]], list[list[str]]]:
    """A classic baseline: one logistic regression per character on a window of characters
    (:func:`window_features`), trained on ``train_chars``. Returns ``tag(chars)``: the
    predicted tags of each sentence of ``chars``, one per character. It sees no tag but its
    own: nothing keeps ``I-PER`` from following ``O``, which a CRF (or the BERT) would learn."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=lambda features: features, binary=True)
    rows = [f for chars in train_chars for f in window_features(chars, width)]
    labels = [t for tags in train_tags for t in tags]
    if len(rows) != len(labels):
        raise ValueError("train_chars and train_tags differ in length: one tag per character")
    classifier = LogisticRegression(max_iter=300, C=2.0).fit(vectorizer.fit_transform(rows), labels)

    def tag(test_chars: Sequence[Sequence[str]]) -> list[list[str]]:
        test_rows = [window_features(chars, width) for chars in test_chars]
        flat = classifier.predict(vectorizer.transform([f for row in test_rows for f in row]))
        tags, start = [], 0
        for row in test_rows:  # back to one list per sentence, in the order of ``test_chars``
            tags.append([str(t) for t in flat[start : start + len(row)]])
            start += len(row)
        return tags

    return tag


def window_baseline(
    train_chars: Sequence[Sequence[str]],
    train_tags: Sequence[Sequence[str]],
    test_chars: Sequence[Sequence[str]],
    width: int = 2,
) -> list[list[str]]:
    """:func:`fit_window_baseline` on the training sentences, then the tags of ``test_chars``."""
    return fit_window_baseline(train_chars, train_tags, width)(test_chars)


def build_zh_ner(
    folder: Path, recipe: ZhNerRecipe = RECIPE, progress: bool = True, device=None
) -> dict[str, Any]:
    """Train the vocabulary and the small Chinese NER BERT into ``folder``; return the figures."""
    import torch
    from transformers import BertForTokenClassification

    from ..chinese_data import NER_LABELS, load_chinese_ner

    run = BuildRun(recipe, device)
    data = load_chinese_ner(seed=recipe.seed, verbose=progress)  # the data
    train, test = data["train"], data["test"]
    tokenizer = train_char_vocab(training_texts(recipe.seed), recipe.vocab_size, recipe.max_length)
    id2label = dict(enumerate(NER_LABELS))
    config = small_bert_config(
        len(tokenizer),
        recipe,
        num_labels=len(NER_LABELS),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BertForTokenClassification(config).to(run.device)  # the model, from scratch
    encoded = encode(tokenizer, train["tokens"], recipe.max_length)
    ids = encoded["input_ids"]
    labels = [align_labels(encoded.word_ids(i), tags) for i, tags in enumerate(train["ner_tags"])]

    def loss_of(batch: list[int]):
        features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
        width = features["input_ids"].shape[1]
        target = torch.tensor([labels[i] + [IGNORE] * (width - len(labels[i])) for i in batch])
        return model(**features.to(run.device), labels=target.to(run.device)).loss

    losses = run.fit(  # AdamW, warm-up, length-sorted batches: BuildRun.fit
        model,
        [len(x) for x in ids],
        loss_of,
        "training the Chinese NER model",
        progress,
        window=50,
    )
    gold = [[NER_LABELS[t] for t in tags] for tags in test["ner_tags"]]
    predicted = predict_tags(
        model, tokenizer, test["tokens"], recipe.eval_batch_size, recipe.max_length
    )
    f1 = entity_f1(gold, predicted)  # the quality bar
    run.save(model, tokenizer, folder)
    check_saved(folder, len(tokenizer))
    figures = {
        "f1": f1["micro"],
        "f1_per_type": {k: v for k, v in f1.items() if k != "micro"},
        "test_sentences": len(test),
        "bar": BAR,
        "steps": recipe.steps,
        "epochs": round(recipe.steps * recipe.batch_size / len(train), 2),
        "train_sentences": len(train),
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_loss": round(mean_of_last(losses, 50), 4),
        **vocab_figures(tokenizer, ["".join(c) for c in test["tokens"]]),
    }
    types = ", ".join(f"{k} {v:.3f}" for k, v in figures["f1_per_type"].items())
    line = (
        f"zh-ner model: entity F1 {f1['micro']:.3f} on {len(test)} held-out sentences "
        f"(bar {BAR:.2f}; {types}); {recipe.steps} steps of {recipe.batch_size}"
    )
    missed = f"entity F1 {f1['micro']:.3f} < {BAR}"
    return run.report("zh-ner", figures, f1["micro"] >= BAR, missed, line, progress)


SOURCE = Built(
    "a 2-layer Chinese BERT trained from scratch on People's Daily NER (built by tutorial_utils)",
    ENTRY,
    VERSION,
    build_zh_ner,
    "the Chinese NER model (a small BERT from scratch, about 3 minutes)",
)


def zh_ner_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"zh-ner"`` model (built on first use)."""
    return SOURCE.folder(progress)

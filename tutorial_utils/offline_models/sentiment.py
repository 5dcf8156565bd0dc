"""The offline ``sentiment`` model: all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes sentences.

Labels ``NEGATIVE`` / ``POSITIVE``, like the online
``distilbert-base-uncased-finetuned-sst-2-english``; one pass over part of the training split
(about 1-2 minutes on 2 cores), then the accuracy on the held-out test split, which must reach
:data:`BAR`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batching import length_batches
from ..metrics import accuracy
from .building import BuildRun, mean_of_last
from .minilm import minilm_dir
from .sources import Built

ENTRY = "sentiment-minilm-rotten-tomatoes"
VERSION = "sentiment-v2"
ID2LABEL = {0: "NEGATIVE", 1: "POSITIVE"}
BAR = 0.80  # test accuracy the sentiment model must reach


@dataclass(frozen=True)
class SentimentRecipe:
    """How the sentiment model is trained (one pass over part of the training split)."""

    seed: int = 0
    max_length: int = 64
    batch_size: int = 32
    steps: int = 200
    lr: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    eval_batch_size: int = 128


RECIPE = SentimentRecipe()


def sentiment_accuracy(
    model,
    tokenizer,
    texts: Sequence[str],
    labels: Sequence[int],
    batch_size: int = 128,
    max_length: int = 64,
) -> float:
    """Accuracy of a sequence classifier on ``texts`` (batched by length, no gradients)."""
    import torch

    model.eval()
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    predicted = [0] * len(ids)
    with torch.no_grad():
        for batch in length_batches([len(x) for x in ids], batch_size):
            features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            logits = model(**features.to(model.device)).logits
            for i, label in zip(batch, logits.argmax(-1).tolist(), strict=True):
                predicted[i] = label
    return accuracy(predicted, labels)


def _minilm_classifier():
    """MiniLM's tokenizer, and MiniLM with a new two-label classification head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(source),
        num_labels=2,
        id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
    )
    return tokenizer, model


def build_sentiment(
    folder: Path, recipe: SentimentRecipe = RECIPE, progress: bool = True, device=None
) -> dict[str, Any]:
    """Fine-tune MiniLM on Rotten Tomatoes into ``folder``; return the build figures.

    Trains on ``device`` (default :func:`tutorial_utils.device`).
    """
    import torch

    from ..data import load_reviews

    run = BuildRun(recipe, device)
    tokenizer, model = _minilm_classifier()  # the model
    model.to(run.device)
    data = load_reviews("rotten_tomatoes", seed=recipe.seed, verbose=progress)  # the data
    train, test = data["train"], data["test"]
    ids = tokenizer(list(train["text"]), truncation=True, max_length=recipe.max_length)
    ids, labels = ids["input_ids"], list(train["label"])

    def loss_of(batch: list[int]):
        features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
        target = torch.tensor([labels[i] for i in batch])
        return model(**features.to(run.device), labels=target.to(run.device)).loss

    losses = run.fit(  # AdamW, warm-up, length-sorted batches: BuildRun.fit
        model,
        [len(x) for x in ids],
        loss_of,
        "fine-tuning the sentiment model",
        progress,
        window=20,
    )
    test_accuracy = sentiment_accuracy(  # the quality bar
        model,
        tokenizer,
        list(test["text"]),
        list(test["label"]),
        recipe.eval_batch_size,
        recipe.max_length,
    )
    run.save(model, tokenizer, folder)
    figures = {
        "accuracy": round(test_accuracy, 4),
        "test_sentences": len(test),
        "bar": BAR,
        "steps": recipe.steps,
        "examples_seen": recipe.steps * recipe.batch_size,
        "train_sentences": len(train),
        "final_loss": round(mean_of_last(losses, 20), 4),
    }
    line = (
        f"sentiment model: test accuracy {test_accuracy:.3f} on {len(test)} held-out Rotten "
        f"Tomatoes sentences (bar {BAR:.2f}); {recipe.steps} steps of {recipe.batch_size}"
    )
    missed = f"test accuracy {test_accuracy:.3f} < {BAR}"
    return run.report("sentiment", figures, test_accuracy >= BAR, missed, line, progress)


SOURCE = Built(
    "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes (built by tutorial_utils)",
    ENTRY,
    VERSION,
    build_sentiment,
    "the sentiment model (MiniLM fine-tuned on Rotten Tomatoes, 1-2 minutes)",
)


def sentiment_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"sentiment"`` model (built on first use, 1-2 min on 2 cores)."""
    return SOURCE.folder(progress)

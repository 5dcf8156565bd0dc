"""Checks of lesson 06 (fine-tuning with Trainer): metrics, TrainingArguments, predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import Hint, exercise, require


def _eval_preds(seed: int):
    from transformers import EvalPrediction

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(64, 2)).astype(np.float32)
    labels = rng.integers(0, 2, size=64)
    return EvalPrediction(predictions=logits, label_ids=labels), logits.argmax(-1), labels


@exercise("06.compute_metrics")
def check_compute_metrics(function: Any) -> None:
    """``function(eval_pred)`` -> ``{"accuracy", "precision", "recall"}`` of class 1."""
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    require(callable(function), "pass the function itself (no parentheses).")
    for seed in range(3):
        eval_pred, predicted, labels = _eval_preds(seed)
        result = function(eval_pred)
        require(isinstance(result, dict), "return a dict of metric name -> number.")
        keys = {"accuracy", "precision", "recall"}
        require(
            keys <= set(result), f"the dict needs the keys {sorted(keys)}, got {sorted(result)}."
        )
        expected = {
            "accuracy": accuracy_score(labels, predicted),
            "precision": precision_score(labels, predicted, zero_division=0),
            "recall": recall_score(labels, predicted, zero_division=0),
        }
        for key, value in expected.items():
            got = float(result[key])
            if abs(got - value) > 1e-6:
                hint = {
                    "accuracy": "take argmax(-1) of eval_pred.predictions (logits) first.",
                    "precision": "precision = true positives / predicted positives (class 1).",
                    "recall": "recall = true positives / actual positives (class 1).",
                }[key]
                raise Hint(f"{key} is {got:.4f}, expected {value:.4f}: {hint}")


@exercise("06.training_args")
def check_training_args(args: Any, out: Any) -> None:
    """TrainingArguments: 2 epochs, lr 3e-5, batch 32, eval and log every 50 steps, no reports."""
    from transformers import TrainingArguments

    require(isinstance(args, TrainingArguments), "build a transformers.TrainingArguments object.")
    folder = Path(args.output_dir).resolve()
    require(
        Path(out).resolve() in (folder, *folder.parents),
        "output_dir must be inside `out`, e.g. str(out / 'exercise').",
    )
    require(args.num_train_epochs == 2, "train for 2 epochs: num_train_epochs=2.")
    require(abs(args.learning_rate - 3e-5) < 1e-12, "use learning_rate=3e-5.")
    require(args.per_device_train_batch_size == 32, "per_device_train_batch_size=32.")
    require(
        str(getattr(args.eval_strategy, "value", args.eval_strategy)) == "steps",
        "evaluate every N steps: eval_strategy='steps' (the old name evaluation_strategy is gone).",
    )
    require(args.eval_steps == 50, "eval_steps=50.")
    require(args.logging_steps == 50, "logging_steps=50.")
    require(args.report_to in ([], ["none"], "none", None), "report_to='none' (no W&B etc.).")


@exercise("06.predict_labels")
def check_predict_labels(function: Any, tokenizer: Any) -> None:
    """``function(texts, model, tokenizer)`` -> label names, computed by hand (no pipeline)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    require(callable(function), "pass the function itself (no parentheses).")
    torch.manual_seed(0)
    names = ["alpha", "beta", "gamma"]
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
        initializer_range=0.5,
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    model = BertForSequenceClassification(config).eval()
    texts = [
        "A gripping, beautifully acted film.",
        "Dull.",
        "I expected more from a director this talented, but the second half drags on and on.",
        "Fine.",
        "An unexpected delight from start to finish, with a great cast.",
    ]
    with torch.no_grad():
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        expected = [names[i] for i in model(**batch).logits.argmax(-1).tolist()]
    got = function(texts, model, tokenizer)
    require(
        isinstance(got, list) and len(got) == len(texts),
        f"return a list with one label per text ({len(texts)} texts).",
    )
    if all(isinstance(g, int | np.integer) for g in got):
        raise Hint("return label *names*: model.config.id2label[i] for each predicted id.")
    if got != expected:
        raise Hint(
            "some labels differ: tokenise the whole list with padding=True and "
            "return_tensors='pt', pass the attention mask too (model(**batch)), take "
            "logits.argmax(-1), then map ids with model.config.id2label."
        )

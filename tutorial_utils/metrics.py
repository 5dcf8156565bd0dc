"""Classification metrics with numpy and scikit-learn (``evaluate.load`` needs the Hub).

- :func:`compute_metrics` is what ``Trainer(compute_metrics=...)`` calls: accuracy and F1.
- :func:`accuracy`, :func:`confusion` and :func:`majority_baseline` work on plain arrays
  of labels (or of logits, whose argmax is taken).
- :func:`tutorial_utils.plotting.plot_confusion_matrix` draws what :func:`confusion` counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _host(values: Any) -> Any:
    """A torch tensor (on any device, in any precision) as a NumPy array; anything else as it is."""
    if hasattr(values, "detach"):
        values = values.detach().cpu()
        if values.is_floating_point() and values.element_size() < 4:  # bfloat16 / float16
            values = values.float()
        return values.numpy()
    return values


def to_labels(values: Any) -> np.ndarray:
    """Class ids as a 1-D integer array: labels stay as they are, logits give their argmax.

    Accepts lists, numpy arrays and torch tensors (on any device: they come back with
    ``.cpu()``); a 2-D input (``(n, num_classes)`` scores or logits) is reduced with
    ``argmax`` over the last axis.
    """
    array = np.asarray(_host(values))
    if array.ndim == 2:
        array = array.argmax(axis=-1)
    if array.ndim != 1:
        raise ValueError(
            f"expected class ids of shape (n,) or logits of shape (n, classes), got shape {array.shape}"
        )
    return array.astype(np.int64)


def _pair(predictions: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    y_pred, y_true = to_labels(predictions), to_labels(labels)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"{len(y_pred)} predictions but {len(y_true)} labels")
    if len(y_true) == 0:
        raise ValueError("no examples: predictions and labels are empty")
    return y_pred, y_true


def accuracy(predictions: Any, labels: Any) -> float:
    """Fraction of predictions equal to the labels (predictions may be logits)."""
    y_pred, y_true = _pair(predictions, labels)
    return float((y_pred == y_true).mean())


def f1(predictions: Any, labels: Any, num_labels: int | None = None) -> float:
    """F1 score: of class 1 for two classes, macro-averaged over classes otherwise."""
    from sklearn.metrics import f1_score

    y_pred, y_true = _pair(predictions, labels)
    classes = num_labels or int(max(y_pred.max(), y_true.max()) + 1)
    if classes <= 2:
        return float(f1_score(y_true, y_pred, average="binary", pos_label=1, zero_division=0))
    return float(
        f1_score(y_true, y_pred, average="macro", labels=list(range(classes)), zero_division=0)
    )


def compute_metrics(eval_pred: Any) -> dict[str, float]:
    """``Trainer``'s ``compute_metrics``: ``{"accuracy": ..., "f1": ...}``.

    ``eval_pred`` is the ``EvalPrediction`` Trainer passes (or a ``(logits, labels)``
    tuple). F1 is that of class 1 for a two-class task, macro-averaged otherwise.
    """
    if hasattr(eval_pred, "predictions"):
        logits, labels = eval_pred.predictions, eval_pred.label_ids
    else:
        logits, labels = eval_pred
    if isinstance(logits, tuple):  # models that also return hidden states: logits come first
        logits = logits[0]
    logits, labels = _host(logits), _host(labels)
    num_labels = np.asarray(logits).shape[-1] if np.asarray(logits).ndim == 2 else None
    return {
        "accuracy": accuracy(logits, labels),
        "f1": f1(logits, labels, num_labels=num_labels),
    }


def confusion(labels: Any, predictions: Any, num_labels: int | None = None) -> np.ndarray:
    """Confusion matrix: row = true class, column = predicted class (scikit-learn's order).

    ``predictions`` may be logits. ``num_labels`` fixes the size when a class never occurs.
    """
    from sklearn.metrics import confusion_matrix

    y_pred, y_true = _pair(predictions, labels)
    classes = num_labels or int(max(y_pred.max(), y_true.max()) + 1)
    return confusion_matrix(y_true, y_pred, labels=list(range(classes)))


def majority_baseline(train_labels: Any, test_labels: Any) -> dict[str, float | int]:
    """Accuracy on ``test_labels`` of always predicting the most frequent training label.

    Returns ``{"label": majority class id, "accuracy": test accuracy}``; ties go to the
    smallest class id. Any model worth training must beat this number.
    """
    train = to_labels(train_labels)
    test = to_labels(test_labels)
    if len(train) == 0 or len(test) == 0:
        raise ValueError("majority_baseline needs non-empty train and test labels")
    majority = int(np.bincount(train).argmax())
    return {"label": majority, "accuracy": float((test == majority).mean())}

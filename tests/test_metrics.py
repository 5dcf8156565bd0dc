"""Metrics of lesson 06, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from transformers import EvalPrediction

from tutorial_utils import metrics

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(200, 2))
LABELS = RNG.integers(0, 2, size=200)


def test_accuracy_matches_sklearn():
    assert metrics.accuracy(LOGITS, LABELS) == pytest.approx(
        accuracy_score(LABELS, LOGITS.argmax(-1))
    )
    assert metrics.accuracy(LOGITS.argmax(-1).tolist(), LABELS.tolist()) == pytest.approx(
        accuracy_score(LABELS, LOGITS.argmax(-1))
    )


def test_accuracy_accepts_tensors():
    import torch

    assert metrics.accuracy(torch.tensor(LOGITS), torch.tensor(LABELS)) == pytest.approx(
        metrics.accuracy(LOGITS, LABELS)
    )


def test_compute_metrics_matches_sklearn():
    expected_f1 = f1_score(LABELS, LOGITS.argmax(-1))
    for eval_pred in (EvalPrediction(predictions=LOGITS, label_ids=LABELS), (LOGITS, LABELS)):
        result = metrics.compute_metrics(eval_pred)
        assert set(result) == {"accuracy", "f1"}
        assert result["accuracy"] == pytest.approx(accuracy_score(LABELS, LOGITS.argmax(-1)))
        assert result["f1"] == pytest.approx(expected_f1)


def test_compute_metrics_multiclass_is_macro_f1():
    logits = RNG.normal(size=(150, 3))
    labels = RNG.integers(0, 3, size=150)
    result = metrics.compute_metrics((logits, labels))
    assert result["f1"] == pytest.approx(f1_score(labels, logits.argmax(-1), average="macro"))


def test_confusion_matches_sklearn():
    cm = metrics.confusion(LABELS, LOGITS)
    np.testing.assert_array_equal(cm, confusion_matrix(LABELS, LOGITS.argmax(-1)))
    assert metrics.confusion([0, 0], [0, 0], num_labels=2).shape == (2, 2)


def test_majority_baseline():
    result = metrics.majority_baseline([1, 1, 0], [1, 0, 0, 0])
    assert result == {"label": 1, "accuracy": 0.25}
    assert metrics.majority_baseline([0, 1], [0, 1])["label"] == 0  # ties: smallest id
    with pytest.raises(ValueError):
        metrics.majority_baseline([], [1])


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="predictions"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="shape"):
        metrics.accuracy(np.zeros((2, 2, 2)), [0, 1])

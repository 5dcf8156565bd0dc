"""Checks for lesson 03 (pipelines)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import exercise, require

TABLE_TEXTS = [
    "I love using transformers, it's so easy and powerful!",
    "The plot is thin and the jokes fall flat.",
    "A warm, funny and beautifully acted film.",
]


@exercise("03.scores_table")
def check_scores_table(scores_table: Callable, classifier: Callable) -> None:
    """``scores_table(classifier, texts)`` -> DataFrame: text, one column per label, label."""
    import pandas as pd

    answer = scores_table(classifier, TABLE_TEXTS)
    require(
        isinstance(answer, pd.DataFrame), f"return a pandas DataFrame, not {type(answer).__name__}"
    )
    require(
        len(answer) == len(TABLE_TEXTS),
        f"one row per text: expected {len(TABLE_TEXTS)} rows, got {len(answer)}",
    )
    expected = classifier(TABLE_TEXTS, top_k=None)
    labels = sorted({row["label"] for row in expected[0]})
    missing = [c for c in ["text", *labels, "label"] if c not in answer.columns]
    require(
        not missing,
        f"missing column(s) {missing}; ask the pipeline for every label with top_k=None",
    )
    require(
        list(answer["text"]) == TABLE_TEXTS, "the 'text' column should hold the texts, in order"
    )
    for i, scores in enumerate(expected):
        for row in scores:
            require(
                abs(float(answer[row["label"]].iloc[i]) - row["score"]) < 1e-4,
                f"row {i}, column {row['label']!r}: expected the pipeline's score {row['score']:.4f}",
            )
    sums = answer[labels].to_numpy(dtype=float).sum(axis=1)
    require(np.allclose(sums, 1.0, atol=1e-4), "the label probabilities of a row should sum to 1")
    best = [max(scores, key=lambda r: r["score"])["label"] for scores in expected]
    require(list(answer["label"]) == best, "the 'label' column should name the most probable label")


@exercise("03.mean_pool")
def check_mean_pool(mean_pool: Callable) -> None:
    """``mean_pool(hidden, attention_mask)`` -> (batch, hidden) mean over the real tokens."""
    import torch

    generator = torch.Generator().manual_seed(3)
    hidden = torch.randn(3, 5, 4, generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    expected = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    answer = mean_pool(hidden, mask)
    require(isinstance(answer, torch.Tensor), f"return a torch tensor, not {type(answer).__name__}")
    require(
        tuple(answer.shape) == (3, 4),
        f"expected shape (3, 4) (batch, hidden), got {tuple(answer.shape)}",
    )
    require(
        not torch.allclose(answer[1], hidden[1].mean(0), atol=1e-5),
        "padding positions (attention_mask 0) must not count: average only where the mask is 1",
    )
    require(
        torch.allclose(answer, expected, atol=1e-5),
        "multiply by the mask, sum over the token axis, divide by the number of real tokens",
    )


@exercise("03.cosine_matrix")
def check_cosine_matrix(cosine_matrix: Callable) -> None:
    """``cosine_matrix(vectors)`` -> (n, n) matrix of pairwise cosine similarities."""
    import torch

    generator = torch.Generator().manual_seed(4)
    vectors = torch.randn(4, 6, generator=generator) * torch.tensor([[1.0], [2.0], [0.5], [3.0]])
    expected = torch.nn.functional.cosine_similarity(vectors[:, None], vectors[None], dim=-1)
    answer = cosine_matrix(vectors)
    require(isinstance(answer, torch.Tensor), f"return a torch tensor, not {type(answer).__name__}")
    require(tuple(answer.shape) == (4, 4), f"expected shape (4, 4), got {tuple(answer.shape)}")
    require(
        not torch.allclose(answer, vectors @ vectors.T, atol=1e-4),
        "plain dot products depend on the vectors' lengths: normalise each vector first",
    )
    require(
        torch.allclose(answer.diagonal(), torch.ones(4), atol=1e-4),
        "every vector has cosine similarity 1 with itself: check the diagonal",
    )
    require(
        torch.allclose(answer, expected, atol=1e-4),
        "divide each vector by its norm, then take all the dot products at once (a @ a.T)",
    )

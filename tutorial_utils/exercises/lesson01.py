"""Checks of lesson 01 (attention maths): masked softmax, head split, reading the scaling plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..attention import MultiHeadAttention
from . import exercise, require

#: Answer key of "01.read_the_plot" (the options are printed in the lesson).
SATURATION_ANSWER = "b"


def _reference_masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


@exercise("01.masked_softmax")
def check_masked_softmax(masked_softmax: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """``masked_softmax(scores, mask)``: softmax over the last dim, zero where ``mask`` is False."""
    require(
        callable(masked_softmax),
        "pass the function itself: check('01.masked_softmax', masked_softmax).",
    )
    g = torch.Generator().manual_seed(101)
    for shape in [(3, 5), (2, 4, 6), (2, 3, 4, 4)]:
        scores = torch.randn(shape, generator=g) * 3
        mask = torch.rand(shape, generator=g) > 0.4
        mask[..., 0] = True  # every row keeps at least one key
        result = masked_softmax(scores, mask)
        require(isinstance(result, torch.Tensor), f"return a tensor, got {type(result).__name__}.")
        require(
            tuple(result.shape) == shape,
            f"for scores of shape {shape} return the same shape, got {tuple(result.shape)}.",
        )
        require(
            not torch.isnan(result).any(),
            "your result has NaN: a row has at least one allowed key here, so no NaN should appear.",
        )
        require(
            torch.all(result[~mask] == 0),
            "masked positions (mask False) must get weight exactly 0: fill their scores with -inf before the softmax.",
        )
        require(
            not torch.allclose(result, torch.softmax(scores, dim=-1) * mask, atol=1e-5),
            "you zeroed the weights *after* the softmax, so the rows no longer sum to 1: fill the "
            "masked *scores* with -inf (masked_fill) and then take the softmax.",
        )
        require(
            torch.allclose(result.sum(-1), torch.ones(shape[:-1]), atol=1e-5),
            "each row must sum to 1: take the softmax over the last dimension (dim=-1).",
        )
        require(
            torch.allclose(result, _reference_masked_softmax(scores, mask), atol=1e-5),
            "the allowed positions do not match softmax(scores with -inf at masked positions).",
        )


@exercise("01.split_heads")
def check_split_heads(split_heads: Callable[[torch.Tensor, int], Any]) -> None:
    """``split_heads(x, num_heads)``: (batch, L, d_model) -> (batch, heads, L, d_model // heads)."""
    require(
        callable(split_heads), "pass the function itself: check('01.split_heads', split_heads)."
    )
    g = torch.Generator().manual_seed(102)
    for batch, length, heads, head_dim in [(1, 3, 2, 4), (2, 5, 4, 3), (3, 7, 3, 2)]:
        x = torch.randn(batch, length, heads * head_dim, generator=g)
        result = split_heads(x, heads)
        expected = MultiHeadAttention(heads * head_dim, heads).split_heads(x)
        require(isinstance(result, torch.Tensor), f"return a tensor, got {type(result).__name__}.")
        require(
            tuple(result.shape) == tuple(expected.shape),
            f"for x of shape {tuple(x.shape)} and {heads} heads expected shape {tuple(expected.shape)} "
            f"(batch, heads, L, head_dim), got {tuple(result.shape)}.",
        )
        require(
            torch.equal(result, expected),
            "right shape, wrong values: view as (batch, L, heads, head_dim) first, then transpose(1, 2); "
            "a direct view to (batch, heads, L, head_dim) mixes positions.",
        )


@exercise("01.read_the_plot")
def check_read_the_plot(answer: Any) -> None:
    """Multiple choice on the scaling plot: one letter."""
    require(
        isinstance(answer, str) and answer.strip().lower() in {"a", "b", "c"},
        "answer with one letter: 'a', 'b' or 'c'.",
    )
    require(
        answer.strip().lower() == SATURATION_ANSWER,
        "look at the unscaled curve: as d_k grows, does the largest softmax weight move towards 1/n, "
        "stay put, or move towards 1? And what does that do to the gradients of the other weights?",
    )

"""Checks of lesson 01 (attention maths): the scaling plot, softmax entropy, float masks, head count."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import Hint, exercise, require

#: Answer key of "01.read_the_plot" (the options are printed in the lesson).
SATURATION_ANSWER = "b"


@exercise("01.read_the_plot")
def check_read_the_plot(answer: Any) -> None:
    """Multiple choice on the scaling plot: one letter."""
    require(
        isinstance(answer, str) and answer.strip().lower() in {"a", "b", "c"},
        "answer with one letter: 'a', 'b' or 'c'.",
    )
    require(
        answer.strip().lower() == SATURATION_ANSWER,
        "look at the unscaled curve: as d_k grows, does the largest softmax weight move towards "
        "1/n, stay put, or move towards 1? And what does a one-hot softmax do to its Jacobian "
        "diag(p) - p pᵀ (section 3's table)?",
    )


def _reference_entropy(scores: torch.Tensor, temperature: float) -> torch.Tensor:
    return torch.special.entr(torch.softmax(scores / temperature, dim=-1)).sum(-1)


@exercise("01.softmax_entropy")
def check_softmax_entropy(softmax_entropy: Callable[[torch.Tensor, float], Any]) -> None:
    """``softmax_entropy(scores, temperature)``: entropy (nats) of softmax(scores / T) per row."""
    require(
        callable(softmax_entropy),
        "pass the function itself: check('01.softmax_entropy', softmax_entropy).",
    )
    g = torch.Generator().manual_seed(111)
    cases = [((4,), 1.0), ((3, 5), 2.0), ((2, 3, 7), 0.5), ((6,), 100.0), ((2, 8), 0.01)]
    for shape, temperature in cases:
        scores = torch.randn(shape, generator=g) * 3
        expected = _reference_entropy(scores, temperature)
        result = softmax_entropy(scores, temperature)
        require(isinstance(result, torch.Tensor), f"return a tensor, got {type(result).__name__}.")
        require(
            tuple(result.shape) == tuple(expected.shape),
            f"for scores of shape {shape} return one entropy per row, shape "
            f"{tuple(expected.shape)}: sum over the last dimension; got {tuple(result.shape)}.",
        )
        if torch.isnan(result).any():
            raise Hint(
                f"NaN at T = {temperature}: some weights are exactly 0 there and 0 * log(0) gives "
                "NaN. Use torch.special.entr(p) (which is 0 at p = 0) or torch.xlogy(p, p)."
            )
        if torch.allclose(result, expected / math.log(2), atol=1e-4) and not torch.allclose(
            expected, torch.zeros_like(expected), atol=1e-4
        ):
            raise Hint(
                "that is the entropy in bits (log2): use the natural log, so the maximum is ln n."
            )
        if temperature != 1.0 and torch.allclose(
            result, _reference_entropy(scores, 1.0), atol=1e-4
        ):
            raise Hint(
                "the temperature changes nothing in your result: divide the scores by it first."
            )
        if torch.allclose(result, -expected, atol=1e-4) and not torch.allclose(
            expected, torch.zeros_like(expected), atol=1e-4
        ):
            raise Hint("the sign is flipped: H(p) = -sum p ln p is never negative.")
        require(
            torch.allclose(result, expected, atol=1e-4),
            f"for T = {temperature} the entropies differ from -sum(p * ln p) with "
            "p = softmax(scores / T, dim=-1).",
        )


def _sdpa_with(mask: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, q, q, attn_mask=mask)


@exercise("01.additive_mask")
def check_additive_mask(additive_mask: Callable[[torch.Tensor], Any]) -> None:
    """``additive_mask(attention_mask)``: float (batch, 1, 1, L), 0 at tokens, -inf at padding."""
    require(
        callable(additive_mask),
        "pass the function itself: check('01.additive_mask', additive_mask).",
    )
    attention_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]])
    q = torch.randn(3, 2, 5, 4, generator=torch.Generator().manual_seed(112))
    expected = _sdpa_with(attention_mask.bool()[:, None, None, :], q)
    result = additive_mask(attention_mask)
    require(isinstance(result, torch.Tensor), f"return a tensor, got {type(result).__name__}.")
    require(
        result.dtype != torch.bool,
        "that is a boolean mask; this exercise asks for the float form that PyTorch *adds* to "
        "the scores: 0.0 where a key may be attended to, float('-inf') at padding.",
    )
    require(
        result.is_floating_point(),
        f"return a floating-point tensor (it is added to the scores), got {result.dtype}.",
    )
    require(
        result.dim() == 4 and tuple(result.shape) == (3, 1, 1, 5),
        f"F.scaled_dot_product_attention adds the mask to scores of shape (batch, heads, L, L): "
        f"give it shape (batch, 1, 1, L) = (3, 1, 1, 5); got {tuple(result.shape)}.",
    )
    if not torch.isneginf(result).any() and set(result.unique().tolist()) <= {0.0, 1.0}:
        raise Hint(
            "adding 1 or 0 to a score blocks nothing: the mask is added before the softmax, so "
            "padding needs -inf (weight e^-inf = 0) and real tokens 0."
        )
    padding = (attention_mask == 0)[:, None, None, :]
    if torch.isneginf(result[~padding]).any():
        raise Hint(
            "-inf sits on real tokens: the attention_mask is 1 at tokens (keep: add 0) and 0 at "
            "padding (block: add -inf)."
        )
    require(
        bool(torch.all(result[padding] < -1e4)),
        "every padding position (attention_mask 0) must get -inf (or a huge negative number).",
    )
    require(
        torch.allclose(_sdpa_with(result, q), expected, atol=1e-5),
        "with your mask F.scaled_dot_product_attention does not give the same output as with "
        "the boolean mask attention_mask.bool()[:, None, None, :]: real tokens must get 0.",
    )


@exercise("01.head_count")
def check_head_count(mha_parameter_count: Callable[[int, int], Any]) -> None:
    """``mha_parameter_count(d_model, num_heads)``: the parameters of nn.MultiheadAttention."""
    require(
        callable(mha_parameter_count),
        "pass the function itself: check('01.head_count', mha_parameter_count).",
    )
    sizes = [(8, 1), (8, 2), (8, 4), (12, 3), (64, 8), (512, 8), (512, 1)]
    answers = {}
    for d_model, heads in sizes:
        answer = mha_parameter_count(d_model, heads)
        require(
            isinstance(answer, int | float) and not isinstance(answer, bool),
            f"return a number, got {type(answer).__name__}.",
        )
        answers[d_model, heads] = answer
    by_width: dict[int, set] = {}
    for (d_model, _), answer in answers.items():
        by_width.setdefault(d_model, set()).add(answer)
    if any(len(counts) > 1 for counts in by_width.values()):
        raise Hint(
            "your count changes with the number of heads. The heads are slices of one "
            "d_model x d_model projection (section 6): more heads means thinner heads, not "
            "more weights."
        )
    for d_model, heads in sizes:
        measured = sum(p.numel() for p in nn.MultiheadAttention(d_model, heads).parameters())
        answer = answers[d_model, heads]
        if answer == measured:
            continue
        if answer == 4 * d_model * d_model:
            raise Hint(
                "the four weight matrices are right; add the biases: q, k, v and the output "
                "projection each have d_model of them."
            )
        if answer in (3 * d_model * d_model, 3 * d_model * d_model + 3 * d_model):
            raise Hint("the output projection W^O (d_model x d_model, plus its bias) is missing.")
        raise Hint(
            f"nn.MultiheadAttention({d_model}, {heads}) has {measured:,} parameters, your formula "
            f"gives {answer:,}: count W^Q, W^K, W^V, W^O and their biases."
        )

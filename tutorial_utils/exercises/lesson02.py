"""Checks of lesson 02 (a Transformer encoder from scratch): pooling, pre-norm block, causal attention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..attention import MultiHeadAttention, TransformerEncoderLayer, causal_mask
from . import exercise, require


def _reference_mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


@exercise("02.mean_pool")
def check_mean_pool(mean_pool: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """``mean_pool(hidden, attention_mask)``: the mean of ``hidden`` over real tokens only."""
    require(callable(mean_pool), "pass the function itself: check('02.mean_pool', mean_pool).")
    g = torch.Generator().manual_seed(201)
    for batch, length, dim in [(2, 4, 3), (3, 6, 8), (1, 5, 2)]:
        hidden = torch.randn(batch, length, dim, generator=g)
        lengths = torch.randint(1, length + 1, (batch,), generator=g)
        attention_mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
        result = mean_pool(hidden, attention_mask)
        require(isinstance(result, torch.Tensor), f"return a tensor, got {type(result).__name__}.")
        require(
            tuple(result.shape) == (batch, dim),
            f"for hidden {tuple(hidden.shape)} return (batch, d_model) = {(batch, dim)}, got {tuple(result.shape)}.",
        )
        if torch.allclose(result, hidden.mean(1), atol=1e-5) and not bool(attention_mask.all()):
            require(
                False,
                "that is the plain mean: padding positions must not count. Multiply by the mask and "
                "divide by the number of real tokens.",
            )
        require(
            torch.allclose(result, _reference_mean_pool(hidden, attention_mask), atol=1e-5),
            "sum hidden * mask over the length, then divide by mask.sum(1) (the number of real tokens).",
        )


@exercise("02.pre_norm_block")
def check_pre_norm_block(block: Callable[[torch.Tensor, TransformerEncoderLayer], Any]) -> None:
    """``block(x, layer)``: the pre-norm forward pass written with ``layer``'s sub-modules."""
    require(
        callable(block), "pass the function itself: check('02.pre_norm_block', pre_norm_block)."
    )
    torch.manual_seed(202)
    for d_model, heads, ff, length in [(8, 2, 16, 5), (12, 3, 24, 7)]:
        layer = TransformerEncoderLayer(d_model, heads, ff, norm_first=True).eval()
        x = torch.randn(2, length, d_model)
        with torch.no_grad():
            result = block(x, layer)
            expected = layer(x)
        require(
            isinstance(result, torch.Tensor) and tuple(result.shape) == tuple(x.shape),
            f"return a tensor of the input's shape {tuple(x.shape)}.",
        )
        layer.norm_first = False
        with torch.no_grad():
            post = layer(x)
        require(
            not torch.allclose(result, post, atol=1e-5),
            "that is the post-norm block (norm after the residual sum): pre-norm normalises the "
            "sub-layer's *input*: x + attn(norm1(x)), then x + ff(norm2(x)).",
        )
        require(
            torch.allclose(result, expected, atol=1e-5),
            "compute x = x + attention(norm1(x)) (query, key and value all norm1(x)), then "
            "x = x + linear2(relu(linear1(norm2(x)))).",
        )


@exercise("02.causal_self_attention")
def check_causal_self_attention(attend: Callable[[torch.Tensor, MultiHeadAttention], Any]) -> None:
    """``attend(x, mha)``: self-attention where position i sees only positions 0..i; returns output."""
    require(
        callable(attend),
        "pass the function itself: check('02.causal_self_attention', causal_self_attention).",
    )
    torch.manual_seed(203)
    mha = MultiHeadAttention(8, 2).eval()
    for length in (1, 4, 9):
        x = torch.randn(2, length, 8)
        with torch.no_grad():
            result = attend(x, mha)
            expected, _ = mha(x, x, x, attn_mask=~causal_mask(length))
        if isinstance(result, tuple):
            result = result[0]
        require(
            isinstance(result, torch.Tensor) and tuple(result.shape) == tuple(x.shape),
            f"return the attention output of shape {tuple(x.shape)}.",
        )
        if length > 1:
            with torch.no_grad():
                open_output, _ = mha(x, x, x)
                inverted, _ = mha(x, x, x, attn_mask=causal_mask(length))
            require(
                not torch.allclose(result, open_output, atol=1e-5),
                "the output equals attention with no mask: pass attn_mask so position i cannot see j > i.",
            )
            require(
                not torch.allclose(result, inverted, atol=1e-5),
                "the mask is inverted: MultiHeadAttention's attn_mask is True where attention is "
                "*blocked*, so pass ~causal_mask(L).",
            )
        require(
            torch.allclose(result, expected, atol=1e-5),
            "call mha with x as query, key and value, and an (L, L) attn_mask that is True where "
            "attention is *blocked* (j > i); lesson 01's causal_mask(L) is True where it is allowed.",
        )

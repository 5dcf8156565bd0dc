"""Input checks and mask conversion for :mod:`tutorial_utils.attention`.

The functions of :mod:`tutorial_utils.attention` call these so that their bodies show only
the computation. Each check raises ValueError with a message that says what shape or type
was expected; the mask helpers turn boolean or float masks into the additive form (0 =
allowed, ``-inf`` = blocked).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor


def _check_tensor(name: str, x: object, min_dim: int, what: str) -> Tensor:
    """Check that ``x`` is a tensor with at least ``min_dim`` dims; ``what`` names its shape."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {what}, got {type(x).__name__}.")
    if x.dim() < min_dim:
        raise ValueError(
            f"{name} must have shape {what} (at least {min_dim} dims), got {tuple(x.shape)}."
        )
    return x


def _scores_shape(q: Tensor, k: Tensor, v: Tensor) -> tuple[int, ...]:
    """(*batch, Lq, Lk), with the leading (batch) dims of ``q``, ``k`` and ``v`` broadcast."""
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError as error:
        raise ValueError(
            f"the leading (batch) dims of q {tuple(q.shape)}, k {tuple(k.shape)} and v {tuple(v.shape)} do not broadcast."
        ) from error
    return (*batch, q.shape[-2], k.shape[-2])


def _check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
    """Check that q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) fit together."""
    _check_tensor("q", q, 2, "(..., Lq, d)")
    _check_tensor("k", k, 2, "(..., Lk, d)")
    _check_tensor("v", v, 2, "(..., Lk, dv)")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension d, got q {tuple(q.shape)} and k {tuple(k.shape)}."
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of keys Lk (dim -2), got k {tuple(k.shape)} and v {tuple(v.shape)}."
        )
    _scores_shape(q, k, v)  # the batch dims must broadcast


def _check_mask_dtype(name: str, mask: Tensor, true_means: str, fix: str) -> None:
    """Refuse a mask that is neither boolean nor floating point (an integer 1/0 mask, say)."""
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise ValueError(
            f"{name} must be boolean (True = {true_means}) or floating point (added to the "
            f"scores: 0 = allowed, -inf = blocked), got dtype {mask.dtype}. A tokenizer's "
            f"attention_mask (1 = token, 0 = padding) becomes {fix}."
        )


def _check_mask(mask: Tensor, q: Tensor, k: Tensor, v: Tensor) -> None:
    """Check :func:`scaled_dot_product_attention`'s ``mask``: its type, and that it broadcasts
    to the scores' shape (..., Lq, Lk) without enlarging it."""
    _check_tensor("mask", mask, 1, "broadcastable to (..., Lq, Lk)")
    _check_mask_dtype(
        "mask", mask, "may attend", "a boolean mask with padding_mask(attention_mask)"
    )
    scores_shape = _scores_shape(q, k, v)
    try:
        full = torch.broadcast_shapes(mask.shape, scores_shape)
    except RuntimeError as error:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape {scores_shape} (..., Lq, Lk)."
        ) from error
    if full != torch.Size(scores_shape):
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} would enlarge the scores' shape {scores_shape} to {tuple(full)}; "
            "give it the scores' batch dims (see padding_mask(..., heads=...))."
        )


def _check_dropout(dropout_p: float) -> None:
    """Check that ``dropout_p`` is a probability, in [0, 1] as ``F.dropout`` wants."""
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, int | float):
        raise ValueError(f"dropout_p must be a float in [0, 1], got {dropout_p!r}.")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout_p must be in [0, 1], got {dropout_p!r}.")


def _check_heads(d_model: int, num_heads: int) -> None:
    """Check that ``d_model`` splits into ``num_heads`` heads of equal size."""
    if (
        not isinstance(d_model, int)
        or not isinstance(num_heads, int)
        or d_model < 1
        or num_heads < 1
    ):
        raise ValueError(
            f"d_model and num_heads must be positive ints, got {d_model!r} and {num_heads!r}."
        )
    if d_model % num_heads:
        raise ValueError(
            f"d_model ({d_model}) must be divisible by num_heads ({num_heads}): each head gets d_model / num_heads dims."
        )


def _check_mha_inputs(query: Tensor, key: Tensor, value: Tensor, d_model: int) -> None:
    """Check that query, key and value are (batch, L, d_model), with one batch size and with
    as many keys as values."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        _check_tensor(name, x, 3, "(batch, L, d_model)")
        if x.dim() != 3 or x.shape[-1] != d_model:
            raise ValueError(f"{name} must have shape (batch, L, {d_model}), got {tuple(x.shape)}.")
    if key.shape[:2] != value.shape[:2] or query.shape[0] != key.shape[0]:
        raise ValueError(
            f"query, key and value must share the batch size, and key and value the length; got "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}."
        )


def _check_mha_masks(
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    query: Tensor,
    key: Tensor,
    heads: int,
) -> None:
    """Check :class:`MultiHeadAttention`'s masks: ``key_padding_mask`` (batch, Lk) and
    ``attn_mask`` (Lq, Lk) or (batch * heads, Lq, Lk), each boolean or floating point."""
    batch, lq, lk = query.shape[0], query.shape[1], key.shape[1]
    fix = "a key_padding_mask with ~attention_mask.bool()"
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, lk):
            raise ValueError(
                f"key_padding_mask must have shape (batch, Lk) = {(batch, lk)} (True or -inf at "
                f"padding), got {key_padding_mask.dtype} {tuple(key_padding_mask.shape)}."
            )
        _check_mask_dtype("key_padding_mask", key_padding_mask, "padding, ignored", fix)
    if attn_mask is not None:
        if tuple(attn_mask.shape) not in ((lq, lk), (batch * heads, lq, lk)):
            raise ValueError(
                f"attn_mask must have shape (Lq, Lk) = {(lq, lk)} or (batch * heads, Lq, Lk) = "
                f"{(batch * heads, lq, lk)}, got {tuple(attn_mask.shape)}."
            )
        _check_mask_dtype("attn_mask", attn_mask, "blocked", fix)


def _check_feed_forward(dim_feedforward: int, activation: str, known: Iterable[str]) -> None:
    """Check the feed-forward network's size and that ``activation`` is one of ``known``."""
    if activation not in known:
        raise ValueError(f"activation must be one of {sorted(known)}, got {activation!r}.")
    if not isinstance(dim_feedforward, int) or dim_feedforward < 1:
        raise ValueError(f"dim_feedforward must be a positive int, got {dim_feedforward!r}.")


def _to_additive_mask(mask: Tensor, like: Tensor, true_blocks: bool) -> Tensor:
    """A checked mask as a float mask to add to the scores: 0 = allowed, ``-inf`` = blocked.

    A boolean mask is True where attention is blocked if ``true_blocks`` (as in
    ``nn.MultiheadAttention``), else True where it is allowed (as in
    ``F.scaled_dot_product_attention``). A float mask is already additive: only its dtype and
    device change. The result has ``like``'s dtype and device.
    """
    mask = mask.to(like.device)
    if mask.dtype != torch.bool:
        return mask.to(like.dtype)
    blocked = mask if true_blocks else ~mask
    additive = torch.zeros(mask.shape, dtype=like.dtype, device=like.device)
    return additive.masked_fill(blocked, float("-inf"))


def _mha_additive_mask(
    key_padding_mask: Tensor | None, attn_mask: Tensor | None, heads: int, like: Tensor
) -> Tensor | None:
    """:class:`MultiHeadAttention`'s two checked masks (True = blocked, or float) as one float
    mask to add to scores of shape (batch, heads, Lq, Lk); None when neither is given."""
    total = None
    if key_padding_mask is not None:  # (batch, Lk) -> (batch, 1, 1, Lk): the same for each query
        total = _to_additive_mask(key_padding_mask, like, true_blocks=True)[:, None, None, :]
    if attn_mask is not None:
        if attn_mask.dim() == 3:  # (batch * heads, Lq, Lk) -> (batch, heads, Lq, Lk)
            attn_mask = attn_mask.reshape(-1, heads, *attn_mask.shape[1:])
        extra = _to_additive_mask(attn_mask, like, true_blocks=True)
        total = extra if total is None else total + extra
    return total

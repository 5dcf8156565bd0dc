"""Attention from scratch: the reference code of lessons 01 and 02.

Everything here is plain PyTorch written for reading, and tested against PyTorch's own
implementations (``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``nn.TransformerEncoderLayer``) to 1e-5 in float32.

Mask conventions (they differ on purpose, to match the functions they mirror). Every mask
here is either boolean or floating point, as in PyTorch:

* :func:`scaled_dot_product_attention` mirrors ``F.scaled_dot_product_attention``: a boolean
  ``mask`` is **True where attention is allowed**; a float ``mask`` is **added** to the scores
  (0 = allowed, ``-inf`` = blocked, any other value shifts the score). :func:`padding_mask` and
  :func:`causal_mask` build boolean masks.
* :class:`MultiHeadAttention` and :class:`TransformerEncoderLayer` mirror ``nn.MultiheadAttention``:
  a boolean ``key_padding_mask`` / ``attn_mask`` is **True where attention is blocked** (True at
  padding); a float one is **added** to the scores, so
  ``nn.Transformer.generate_square_subsequent_mask(n)`` (0 on and below the diagonal, ``-inf``
  above) works as a causal ``attn_mask``.

An integer mask (a tokenizer's ``attention_mask`` of 1/0) is refused with a message that says
how to convert it: its meaning (keep or block?) differs between these conventions.

Fully masked rows: when a query may attend to no key at all, the softmax has nothing to
normalise (``nn.MultiheadAttention`` returns NaN there; what ``F.scaled_dot_product_attention``
returns depends on the PyTorch version and backend). Here such a row gets **all-zero attention
weights and an all-zero output** (before the output projection in :class:`MultiHeadAttention`),
and gradients stay finite.

The bodies of :func:`scaled_dot_product_attention` and of the two modules' ``forward`` show only
the computation: their input checks, and the conversion of masks to the additive form (0 =
allowed, ``-inf`` = blocked), are small helpers in :mod:`tutorial_utils.attention_checks`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_checks import (  # input checks, mask conversion
    _check_dropout,
    _check_feed_forward,
    _check_heads,
    _check_mask,
    _check_mha_inputs,
    _check_mha_masks,
    _check_qkv,
    _check_tensor,
    _mha_additive_mask,
    _to_additive_mask,
)

__all__ = [
    "MultiHeadAttention",
    "TransformerEncoderLayer",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
]


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, dropout_p: float = 0.0
) -> tuple[Tensor, Tensor]:
    r"""Attention :math:`\mathrm{softmax}(QK^\top/\sqrt{d})\,V`; returns ``(output, weights)``.

    ``q``: (..., Lq, d); ``k``: (..., Lk, d); ``v``: (..., Lk, dv); leading dims broadcast.
    ``mask``: optional, broadcastable to (..., Lq, Lk); boolean, True where a query may attend
    to a key, or floating point, added to the scores (0 = allowed, ``-inf`` = blocked), as in
    ``F.scaled_dot_product_attention``. Output: (..., Lq, dv); weights: (..., Lq, Lk), rows sum
    to 1.

    ``dropout_p``: as in ``F.scaled_dot_product_attention``, the probability of dropping each
    weight before it multiplies ``v`` (the others are scaled by ``1 / (1 - dropout_p)``);
    applied whenever it is above 0, so pass 0 in eval mode. The returned weights are the
    ones before dropout (what a heatmap shows).

    A query row whose keys are all masked gets zero weights and a zero output, never NaN.
    """
    _check_qkv(q, k, v)
    _check_dropout(dropout_p)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Lq, Lk)
    if mask is None:
        weights = torch.softmax(scores, dim=-1)  # (..., Lq, Lk), each row sums to 1
    else:
        _check_mask(mask, q, k, v)
        scores = scores + _to_additive_mask(mask, like=scores, true_blocks=False)  # (..., Lq, Lk)
        # A query whose every key is blocked (a row of -inf) would get 0/0 = NaN: give it zeros.
        empty = torch.isneginf(scores).all(dim=-1, keepdim=True)  # (..., Lq, 1)
        weights = torch.softmax(scores.masked_fill(empty, 0.0), dim=-1)  # (..., Lq, Lk)
        weights = weights.masked_fill(empty, 0.0)  # (..., Lq, Lk)
    if dropout_p > 0:  # drop weights (the kept ones scaled by 1 / (1 - p)), then weigh v
        return F.dropout(weights, dropout_p) @ v, weights  # (..., Lq, dv), (..., Lq, Lk)
    return weights @ v, weights  # (..., Lq, dv), (..., Lq, Lk)


def padding_mask(attention_mask: Tensor, heads: bool = True) -> Tensor:
    """Boolean "may attend" mask from a tokenizer's ``attention_mask`` (batch, L) of 1/0.

    Returns (batch, 1, 1, L) for scores of shape (batch, heads, Lq, L), or (batch, 1, L)
    with ``heads=False`` for scores of shape (batch, Lq, L). True at real tokens.
    """
    _check_tensor("attention_mask", attention_mask, 2, "(batch, L)")
    if attention_mask.dim() != 2:
        raise ValueError(
            f"attention_mask must have shape (batch, L), got {tuple(attention_mask.shape)}."
        )
    allowed = attention_mask.bool()
    return allowed[:, None, None, :] if heads else allowed[:, None, :]


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """Boolean (length, length) mask, True on and below the diagonal: query i sees keys 0..i."""
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}.")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def sinusoidal_positional_encoding(
    length: int, d_model: int, device: torch.device | str | None = None
) -> Tensor:
    r"""The (length, d_model) sinusoidal table of *Attention Is All You Need*.

    :math:`PE_{p,2i} = \sin(p / 10000^{2i/d})`, :math:`PE_{p,2i+1} = \cos(p / 10000^{2i/d})`.
    ``device``: where to put the table (default the CPU; pass ``x.device`` to add it to ``x``).
    """
    for name, value in (("length", length), ("d_model", d_model)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (L, 1)
    even = torch.arange(0, d_model, 2, dtype=torch.float32)  # 2i
    frequency = torch.exp(-math.log(10000.0) * even / d_model)  # 1 / 10000^(2i/d)
    angles = position * frequency  # (L, ceil(d/2))
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return pe if device is None else pe.to(device)


class MultiHeadAttention(nn.Module):
    """Multi-head attention: project, split into heads, attend, merge, project.

    Called as ``mha(query, key, value, key_padding_mask=None, attn_mask=None)`` with
    batch-first inputs (batch, L, d_model); returns ``(output, weights)`` with weights of shape
    (batch, heads, Lq, Lk). Masks follow ``nn.MultiheadAttention``: boolean with True = blocked,
    or floating point, added to the scores (0 = allowed, ``-inf`` = blocked; for example
    ``nn.Transformer.generate_square_subsequent_mask(L)`` as a causal ``attn_mask``).
    ``key_padding_mask``: (batch, Lk), True (or ``-inf``) at padding. ``attn_mask``: (Lq, Lk)
    or (batch * heads, Lq, Lk).
    """

    def __init__(
        self, d_model: int, num_heads: int, bias: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__()
        _check_heads(d_model, num_heads)
        self.d_model = d_model
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x: Tensor) -> Tensor:
        """(batch, L, d_model) -> (batch, heads, L, head_dim)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """(batch, heads, L, head_dim) -> (batch, L, d_model)."""
        batch, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(batch, length, self.d_model)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Attend from ``query`` (batch, Lq, d_model) to ``key`` and ``value`` (batch, Lk, d_model).

        Returns ``(output, weights)``: (batch, Lq, d_model) and (batch, heads, Lq, Lk).
        """
        _check_mha_inputs(query, key, value, self.d_model)
        _check_mha_masks(key_padding_mask, attn_mask, query, key, self.num_heads)
        # None, or one float mask to add to the scores, broadcastable to (batch, heads, Lq, Lk)
        mask = _mha_additive_mask(key_padding_mask, attn_mask, self.num_heads, like=query)
        q = self.split_heads(self.q_proj(query))  # (batch, heads, Lq, head_dim)
        k = self.split_heads(self.k_proj(key))  # (batch, heads, Lk, head_dim)
        v = self.split_heads(self.v_proj(value))  # (batch, heads, Lk, head_dim)
        # dropout on the weights in training mode only (the weights come back undropped)
        dropout_p = self.dropout.p if self.training else 0.0
        # out: (batch, heads, Lq, head_dim); weights: (batch, heads, Lq, Lk)
        out, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p)
        return self.out_proj(self.merge_heads(out)), weights  # output: (batch, Lq, d_model)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of a ``torch.nn.MultiheadAttention`` (same weights, same outputs, same train/eval mode)."""
        if not isinstance(module, nn.MultiheadAttention):
            raise ValueError(
                f"expected a torch.nn.MultiheadAttention, got {type(module).__name__}."
            )
        if not module._qkv_same_embed_dim or module.bias_k is not None or module.add_zero_attn:
            raise ValueError(
                "only nn.MultiheadAttention without kdim/vdim, add_bias_kv or add_zero_attn is supported."
            )
        bias = module.in_proj_bias is not None
        mha = cls(module.embed_dim, module.num_heads, bias=bias, dropout=module.dropout)
        w_q, w_k, w_v = module.in_proj_weight.detach().chunk(3)
        with torch.no_grad():
            for proj, w in ((mha.q_proj, w_q), (mha.k_proj, w_k), (mha.v_proj, w_v)):
                proj.weight.copy_(w)
            mha.out_proj.weight.copy_(module.out_proj.weight)
            if bias:
                b_q, b_k, b_v = module.in_proj_bias.detach().chunk(3)
                for proj, b in ((mha.q_proj, b_q), (mha.k_proj, b_k), (mha.v_proj, b_v)):
                    proj.bias.copy_(b)
                mha.out_proj.bias.copy_(module.out_proj.bias)
        mha.train(module.training)  # same mode (dropout on or off) as the original
        return mha.to(module.in_proj_weight.device, module.in_proj_weight.dtype)


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(nn.Module):
    """One encoder block: self-attention and a feed-forward network, each with residual + LayerNorm.

    Post-norm (``norm_first=False``, the original paper): ``x = norm(x + sublayer(x))``.
    Pre-norm (``norm_first=True``): ``x = x + sublayer(norm(x))``. Called as
    ``layer(x, key_padding_mask=None, attn_mask=None)`` on (batch, L, d_model); returns a tensor
    of the same shape. The last attention weights (batch, heads, L, L) are kept in
    ``layer.last_attention`` (detached) for plotting.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dim_feedforward: int,
        dropout: float = 0.0,
        norm_first: bool = False,
        activation: str = "relu",
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        _check_feed_forward(dim_feedforward, activation, _ACTIVATIONS)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)  # inside the feed-forward network
        self.dropout1 = nn.Dropout(dropout)  # on the attention branch
        self.dropout2 = nn.Dropout(dropout)  # on the feed-forward branch
        self.norm_first = norm_first
        self.activation = activation
        self.last_attention: Tensor | None = None

    def _attention_block(
        self, x: Tensor, key_padding_mask: Tensor | None, attn_mask: Tensor | None
    ) -> Tensor:
        """Self-attention sublayer: (batch, L, d_model) -> (batch, L, d_model)."""
        out, weights = self.self_attn(
            x, x, x, key_padding_mask=key_padding_mask, attn_mask=attn_mask
        )
        self.last_attention = weights.detach()  # (batch, heads, L, L), for plotting
        return self.dropout1(out)

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        """Feed-forward sublayer: (batch, L, d_model) -> (batch, L, d_model)."""
        hidden = self.dropout(_ACTIVATIONS[self.activation](self.linear1(x)))  # (batch, L, ff)
        return self.dropout2(self.linear2(hidden))

    def forward(
        self, x: Tensor, key_padding_mask: Tensor | None = None, attn_mask: Tensor | None = None
    ) -> Tensor:
        """(batch, L, d_model) -> (batch, L, d_model); masks as in :class:`MultiHeadAttention`."""
        _check_tensor("x", x, 3, "(batch, L, d_model)")
        # x stays (batch, L, d_model) throughout: each sublayer maps that shape to itself.
        if self.norm_first:  # pre-norm: x + sublayer(norm(x))
            x = x + self._attention_block(self.norm1(x), key_padding_mask, attn_mask)
            x = x + self._feed_forward_block(self.norm2(x))
        else:  # post-norm, as in the paper: norm(x + sublayer(x))
            x = self.norm1(x + self._attention_block(x, key_padding_mask, attn_mask))
            x = self.norm2(x + self._feed_forward_block(x))
        return x

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> TransformerEncoderLayer:
        """A copy of a ``torch.nn.TransformerEncoderLayer`` (same weights, outputs and train/eval mode)."""
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise ValueError(
                f"expected a torch.nn.TransformerEncoderLayer, got {type(layer).__name__}."
            )
        activation = layer.activation
        names = {F.relu: "relu", F.gelu: "gelu"}
        if isinstance(activation, nn.ReLU):
            name = "relu"
        elif isinstance(activation, nn.GELU) and activation.approximate == "none":
            name = "gelu"
        elif activation in names:
            name = names[activation]
        else:
            raise ValueError(f"only relu and gelu activations are supported, got {activation!r}.")
        ours = cls(
            layer.self_attn.embed_dim,
            layer.self_attn.num_heads,
            layer.linear1.out_features,
            dropout=layer.dropout.p,
            norm_first=layer.norm_first,
            activation=name,
            layer_norm_eps=layer.norm1.eps,
        )
        ours.self_attn = MultiHeadAttention.from_torch(layer.self_attn)
        for target, source in (
            (ours.linear1, layer.linear1),
            (ours.linear2, layer.linear2),
            (ours.norm1, layer.norm1),
            (ours.norm2, layer.norm2),
        ):
            target.load_state_dict(source.state_dict())
        ours.train(layer.training)  # same mode (dropout on or off) as the original
        return ours.to(layer.linear1.weight.device, layer.linear1.weight.dtype)

"""Dropout on the attention weights: applied once, as F.scaled_dot_product_attention does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tutorial_utils import attention
from tutorial_utils.attention import (
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
)


def _qkv(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    shapes = ((3, 2, 5, 8), (3, 2, 6, 8), (3, 2, 6, 4))
    return [torch.randn(s, generator=generator) for s in shapes]


@pytest.mark.parametrize("p", [0.1, 0.5])
@pytest.mark.parametrize("masked", [False, True])
def test_dropout_p_matches_pytorch_with_the_same_seed(p, masked):
    q, k, v = _qkv()
    mask = causal_mask(6)[:5] if masked else None  # (Lq, Lk), True = may attend
    torch.manual_seed(7)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
    torch.manual_seed(7)
    ours, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=p)
    assert torch.allclose(ours, expected, atol=1e-6)
    # the weights come back before dropout: rows still sum to 1
    assert torch.allclose(weights.sum(-1), torch.ones(3, 2, 5), atol=1e-6)
    assert not torch.allclose(ours, scaled_dot_product_attention(q, k, v, mask)[0])


def test_dropout_p_zero_is_the_plain_computation_and_draws_nothing():
    q, k, v = _qkv()
    torch.manual_seed(3)
    before = torch.random.get_rng_state()
    ours, weights = scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(ours, torch.softmax(q @ k.transpose(-2, -1) / 8**0.5, -1) @ v)
    assert torch.equal(ours, scaled_dot_product_attention(q, k, v)[0])


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.1", True])
def test_dropout_p_must_be_a_probability(bad):
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="dropout_p"):
        scaled_dot_product_attention(q, k, v, dropout_p=bad)


def _count_dropouts(monkeypatch) -> list[float]:
    calls: list[float] = []
    original = F.dropout

    def counted(x, p=0.5, training=True, inplace=False):
        calls.append(p)
        return original(x, p, training, inplace)

    monkeypatch.setattr(attention.F, "dropout", counted)
    return calls


def test_mha_applies_dropout_once_in_training_and_never_in_eval(monkeypatch):
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, dropout=0.3)
    x = torch.randn(2, 5, 8)
    calls = _count_dropouts(monkeypatch)
    mha.eval()
    first, _ = mha(x, x, x)
    assert calls == [] and torch.equal(first, mha(x, x, x)[0])  # eval: deterministic
    mha.train()
    torch.manual_seed(1)
    out, weights = mha(x, x, x)
    assert calls == [0.3], "dropout once per forward, on the weights"
    # the same as dropping the returned weights by hand with the same seed, once
    q, k, v = (mha.split_heads(proj(x)) for proj in (mha.q_proj, mha.k_proj, mha.v_proj))
    torch.manual_seed(1)
    by_hand = mha.out_proj(mha.merge_heads(original_dropout(weights, 0.3) @ v))
    assert torch.allclose(out, by_hand, atol=1e-6)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 2, 5), atol=1e-6)


original_dropout = F.dropout


def test_mha_in_training_matches_nn_multiheadattention_with_the_same_seed():
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(8, 2, dropout=0.25, batch_first=True).train()
    ours = MultiHeadAttention.from_torch(theirs)
    assert ours.training
    x = torch.randn(2, 5, 8)
    padding = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    torch.manual_seed(5)
    expected, _ = theirs(x, x, x, key_padding_mask=padding)
    torch.manual_seed(5)
    got, _ = ours(x, x, x, key_padding_mask=padding)
    assert torch.allclose(got, expected, atol=1e-5)

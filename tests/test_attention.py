"""tutorial_utils.attention against PyTorch's own attention, over many random shapes."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tutorial_utils.attention import (
    MultiHeadAttention,
    TransformerEncoderLayer,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)

ATOL = 1e-5
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)

batch_dims = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
lengths = st.integers(1, 9)
dims = st.integers(1, 16)


def _random_allowed(generator: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """A random boolean mask with at least one allowed key per query row."""
    mask = torch.rand(shape, generator=generator) > 0.4
    mask[..., 0] = True
    return mask


@PROPERTY
@given(batch=batch_dims, lq=lengths, lk=lengths, d=dims, dv=dims, seed=st.integers(0, 2**16))
def test_sdpa_matches_pytorch(batch, lq, lk, d, dv, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(*batch, lq, d, generator=g), torch.randn(*batch, lk, d, generator=g)
    v = torch.randn(*batch, lk, dv, generator=g)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (*batch, lq, dv) and weights.shape == (*batch, lq, lk)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(*batch, lq), atol=ATOL, rtol=0)


@PROPERTY
@given(
    batch=batch_dims,
    lq=lengths,
    lk=lengths,
    d=dims,
    seed=st.integers(0, 2**16),
    broadcast=st.booleans(),
)
def test_sdpa_with_mask_matches_pytorch(batch, lq, lk, d, seed, broadcast):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(*batch, n, d, generator=g) for n in (lq, lk, lk))
    mask_shape = (lq, lk) if broadcast else (*batch, lq, lk)
    mask = _random_allowed(g, mask_shape)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    assert torch.all(weights.masked_select(~mask.expand_as(weights)) == 0)


def test_sdpa_mask_broadcasting_from_padding_and_causal():
    g = torch.Generator().manual_seed(0)
    q = k = v = torch.randn(2, 3, 5, 4, generator=g)  # (batch, heads, L, d)
    attention_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    mask = padding_mask(attention_mask) & causal_mask(5)
    assert mask.shape == (2, 1, 5, 5)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=ATOL, rtol=0
    )
    assert torch.all(weights[1, :, :, 3:] == 0)
    assert torch.all(weights.triu(1) == 0)


def test_fully_masked_row_gives_zeros_not_nan():
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 4, 3, generator=g, requires_grad=True)
    k = torch.randn(2, 5, 3, generator=g)
    v = torch.randn(2, 5, 6, generator=g)
    mask = torch.ones(2, 4, 5, dtype=torch.bool)
    mask[0, 2] = False  # query 2 of item 0 may attend to nothing
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(out[0, 2] == 0) and torch.all(weights[0, 2] == 0)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(q.grad).all()
    # the other rows are untouched
    ref = F.scaled_dot_product_attention(q[1:], k[1:], v[1:])
    torch.testing.assert_close(out[1:], ref, atol=ATOL, rtol=0)


def _additive(allowed: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A float mask: -inf where ``allowed`` is False, a random finite shift elsewhere."""
    shift = torch.randn(allowed.shape, generator=generator)
    return shift.masked_fill(~allowed, float("-inf"))


@PROPERTY
@given(
    batch=batch_dims,
    lq=lengths,
    lk=lengths,
    d=dims,
    seed=st.integers(0, 2**16),
    broadcast=st.booleans(),
)
def test_sdpa_with_float_mask_matches_pytorch(batch, lq, lk, d, seed, broadcast):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(*batch, n, d, generator=g) for n in (lq, lk, lk))
    allowed = _random_allowed(g, (lq, lk) if broadcast else (*batch, lq, lk))
    mask = _additive(allowed, g)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    assert torch.all(weights.masked_select(~allowed.expand_as(weights)) == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]), atol=ATOL, rtol=0)


def test_sdpa_float_causal_mask_equals_boolean_one():
    g = torch.Generator().manual_seed(4)
    q = k = v = torch.randn(2, 3, 6, 4, generator=g)
    float_causal = nn.Transformer.generate_square_subsequent_mask(6)  # 0 / -inf
    assert float_causal.is_floating_point() and torch.isneginf(float_causal).any()
    out_float, weights_float = scaled_dot_product_attention(q, k, v, float_causal)
    out_bool, weights_bool = scaled_dot_product_attention(q, k, v, causal_mask(6))
    torch.testing.assert_close(out_float, out_bool, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights_float, weights_bool, atol=ATOL, rtol=0)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out_float, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(
        out_float,
        F.scaled_dot_product_attention(q, k, v, attn_mask=float_causal),
        atol=ATOL,
        rtol=0,
    )


def test_fully_masked_float_row_gives_zeros_not_nan():
    g = torch.Generator().manual_seed(5)
    q = torch.randn(1, 3, 4, generator=g, requires_grad=True)
    k, v = torch.randn(1, 3, 4, generator=g), torch.randn(1, 3, 2, generator=g)
    mask = torch.zeros(1, 3, 3)
    mask[0, 1] = float("-inf")  # query 1 may attend to nothing
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(out[0, 1] == 0) and torch.all(weights[0, 1] == 0)
    out.sum().backward()
    assert torch.isfinite(q.grad).all()


def test_padding_and_causal_masks():
    am = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert padding_mask(am).shape == (2, 1, 1, 3)
    assert padding_mask(am, heads=False).tolist() == [[[True, True, False]], [[True, False, False]]]
    assert causal_mask(3).tolist() == [
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]


@pytest.mark.parametrize(
    ("q", "k", "v", "mask", "message"),
    [
        (torch.zeros(4), torch.zeros(4, 2), torch.zeros(4, 2), None, "q must have shape"),
        (torch.zeros(3, 4), torch.zeros(5, 3), torch.zeros(5, 2), None, "same last dimension"),
        (torch.zeros(3, 4), torch.zeros(5, 4), torch.zeros(6, 2), None, "same number of keys"),
        (
            torch.zeros(2, 3, 4),
            torch.zeros(3, 5, 4),
            torch.zeros(3, 5, 2),
            None,
            "do not broadcast",
        ),
        (
            torch.zeros(3, 4),
            torch.zeros(5, 4),
            torch.zeros(5, 2),
            torch.ones(3, 5, dtype=torch.long),
            "boolean .* or floating point",
        ),
        (
            torch.zeros(3, 4),
            torch.zeros(5, 4),
            torch.zeros(5, 2),
            torch.ones(3, 4, dtype=torch.bool),
            "does not broadcast",
        ),
        (
            torch.zeros(2, 3, 4),
            torch.zeros(2, 5, 4),
            torch.zeros(2, 5, 2),
            torch.ones(2, 1, 1, 5, dtype=torch.bool),
            "would enlarge",
        ),
        ([[1.0]], torch.zeros(5, 4), torch.zeros(5, 2), None, "torch.Tensor"),
    ],
)
def test_sdpa_bad_input(q, k, v, mask, message):
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(q, k, v, mask)


def test_mask_helpers_bad_input():
    with pytest.raises(ValueError, match="positive int"):
        causal_mask(0)
    with pytest.raises(ValueError, match=r"\(batch, L\)"):
        padding_mask(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match="positive int"):
        sinusoidal_positional_encoding(10, 0)


@pytest.mark.parametrize(("length", "d_model"), [(1, 1), (7, 4), (50, 16), (13, 9)])
def test_sinusoidal_positional_encoding(length, d_model):
    pe = sinusoidal_positional_encoding(length, d_model)
    assert pe.shape == (length, d_model)
    for pos in range(length):
        for i in range(d_model):
            angle = pos / 10000 ** (2 * (i // 2) / d_model)
            expected = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert abs(pe[pos, i].item() - expected) < 1e-5


def test_positional_dot_product_depends_on_offset_only():
    pe = sinusoidal_positional_encoding(60, 32)
    gram = pe @ pe.T
    for offset in (1, 5, 11):
        diagonal = torch.diagonal(gram, offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4, rtol=0)


@PROPERTY
@given(
    batch=st.integers(1, 3),
    lq=lengths,
    lk=lengths,
    heads=st.integers(1, 4),
    head_dim=st.integers(1, 5),
    bias=st.booleans(),
    use_padding=st.booleans(),
    use_attn_mask=st.sampled_from(["none", "2d", "3d"]),
    seed=st.integers(0, 2**16),
)
def test_mha_from_torch_matches(
    batch, lq, lk, heads, head_dim, bias, use_padding, use_attn_mask, seed
):
    torch.manual_seed(seed)
    d_model = heads * head_dim
    reference = nn.MultiheadAttention(d_model, heads, bias=bias, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(reference).eval()
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(batch, lq, d_model, generator=g)
    key = torch.randn(batch, lk, d_model, generator=g)
    value = torch.randn(batch, lk, d_model, generator=g)
    kpm = None
    if use_padding:
        kpm = torch.rand(batch, lk, generator=g) > 0.6
        kpm[:, 0] = False  # keep a key for every query
    am = None
    if use_attn_mask == "2d":
        am = torch.rand(lq, lk, generator=g) > 0.6
        am[:, 0] = False
    elif use_attn_mask == "3d":
        am = torch.rand(batch * heads, lq, lk, generator=g) > 0.6
        am[..., 0] = False
    expected, expected_weights = reference(query, key, value, key_padding_mask=kpm, attn_mask=am)
    out, weights = ours(query, key, value, key_padding_mask=kpm, attn_mask=am)
    assert weights.shape == (batch, heads, lq, lk)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.mean(1), expected_weights, atol=ATOL, rtol=0)


@PROPERTY
@given(
    batch=st.integers(1, 3),
    lq=lengths,
    lk=lengths,
    heads=st.integers(1, 4),
    head_dim=st.integers(1, 5),
    padding_kind=st.sampled_from(["none", "bool", "float"]),
    attn_kind=st.sampled_from(["none", "bool-2d", "float-2d", "float-3d"]),
    seed=st.integers(0, 2**16),
)
def test_mha_float_masks_match_torch(batch, lq, lk, heads, head_dim, padding_kind, attn_kind, seed):
    torch.manual_seed(seed)
    d_model = heads * head_dim
    reference = nn.MultiheadAttention(d_model, heads, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(reference).eval()
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(batch, lq, d_model, generator=g)
    key = torch.randn(batch, lk, d_model, generator=g)
    value = torch.randn(batch, lk, d_model, generator=g)
    kpm = None
    if padding_kind != "none":
        kpm = torch.rand(batch, lk, generator=g) > 0.6
        kpm[:, 0] = False  # keep a key for every query
        if padding_kind == "float":
            kpm = torch.zeros(batch, lk).masked_fill(kpm, float("-inf"))
    am = None
    if attn_kind != "none":
        shape = (lq, lk) if attn_kind.endswith("2d") else (batch * heads, lq, lk)
        blocked = torch.rand(shape, generator=g) > 0.6
        blocked[..., 0] = False
        am = blocked if attn_kind.startswith("bool") else _additive(~blocked, g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns when the two masks' types differ
        expected, expected_weights = reference(
            query, key, value, key_padding_mask=kpm, attn_mask=am
        )
    out, weights = ours(query, key, value, key_padding_mask=kpm, attn_mask=am)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.mean(1), expected_weights, atol=ATOL, rtol=0)


def test_mha_and_layer_take_generate_square_subsequent_mask():
    torch.manual_seed(6)
    length = 7
    float_causal = nn.Transformer.generate_square_subsequent_mask(length)
    reference = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(reference).eval()
    x = torch.randn(3, length, 8)
    out, weights = ours(x, x, x, attn_mask=float_causal)
    torch.testing.assert_close(
        out, reference(x, x, x, attn_mask=float_causal)[0], atol=ATOL, rtol=0
    )
    torch.testing.assert_close(
        out, ours(x, x, x, attn_mask=~causal_mask(length))[0], atol=ATOL, rtol=0
    )
    assert torch.all(weights.triu(1) == 0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    our_layer = TransformerEncoderLayer.from_torch(layer).eval()
    with torch.no_grad():
        torch.testing.assert_close(
            our_layer(x, attn_mask=float_causal),
            layer(x, src_mask=float_causal, is_causal=True),
            atol=ATOL,
            rtol=0,
        )


def test_mha_self_attention_gradients_match():
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(12, 3, batch_first=True)
    ours = MultiHeadAttention.from_torch(reference)
    x = torch.randn(2, 7, 12)
    reference(x, x, x)[0].pow(2).sum().backward()
    ours(x, x, x)[0].pow(2).sum().backward()
    w_q = reference.in_proj_weight.grad[:12]
    torch.testing.assert_close(ours.q_proj.weight.grad, w_q, atol=1e-4, rtol=1e-4)


def test_mha_split_merge_roundtrip():
    mha = MultiHeadAttention(12, 4)
    x = torch.randn(2, 5, 12)
    heads = mha.split_heads(x)
    assert heads.shape == (2, 4, 5, 3)
    assert torch.equal(mha.merge_heads(heads), x)
    assert torch.equal(heads[:, 1], x[..., 3:6])


def test_mha_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match=r"\(batch, L, 8\)"):
        mha(torch.randn(2, 4, 6), x, x)
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=torch.zeros(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean .* or floating point"):
        mha(x, x, x, attn_mask=torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"~attention_mask\.bool\(\)"):
        mha(x, x, x, key_padding_mask=torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="MultiheadAttention"):
        MultiHeadAttention.from_torch(nn.Linear(2, 2))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize(
    ("batch", "length", "d_model", "heads", "ff"),
    [(1, 1, 4, 1, 8), (2, 7, 16, 4, 32), (3, 12, 24, 6, 20), (4, 5, 8, 2, 64)],
)
def test_encoder_layer_from_torch_matches(
    norm_first, activation, batch, length, d_model, heads, ff
):
    torch.manual_seed(batch * 100 + length)
    reference = nn.TransformerEncoderLayer(
        d_model,
        heads,
        ff,
        dropout=0.1,
        activation=activation,
        batch_first=True,
        norm_first=norm_first,
    ).eval()
    ours = TransformerEncoderLayer.from_torch(reference).eval()
    assert ours.norm_first is norm_first
    x = torch.randn(batch, length, d_model)
    kpm = torch.zeros(batch, length, dtype=torch.bool)
    kpm[0, length // 2 + 1 :] = True
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=ATOL, rtol=0)
        out = ours(x, key_padding_mask=kpm)
        expected = reference(x, src_key_padding_mask=kpm)
    real = ~kpm  # PyTorch's fast path may zero padded positions: compare the real tokens
    torch.testing.assert_close(out[real], expected[real], atol=ATOL, rtol=0)
    assert ours.last_attention.shape == (batch, heads, length, length)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_training_mode_matches_without_dropout(norm_first):
    torch.manual_seed(3)
    reference = nn.TransformerEncoderLayer(
        16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first
    )
    ours = TransformerEncoderLayer.from_torch(reference)
    x = torch.randn(2, 6, 16, requires_grad=True)
    mask = causal_mask(6)
    torch.testing.assert_close(
        ours(x, attn_mask=~mask), reference(x, src_mask=~mask), atol=ATOL, rtol=0
    )


def test_encoder_layer_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        TransformerEncoderLayer(10, 4, 16)
    with pytest.raises(ValueError, match="activation"):
        TransformerEncoderLayer(8, 2, 16, activation="tanh")
    with pytest.raises(ValueError, match="TransformerEncoderLayer"):
        TransformerEncoderLayer.from_torch(nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"\(batch, L, d_model\)"):
        TransformerEncoderLayer(8, 2, 16)(torch.randn(4, 8))


def test_from_torch_keeps_train_eval_mode():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    assert MultiHeadAttention.from_torch(mha.eval()).training is False
    assert MultiHeadAttention.from_torch(mha.train()).training is True
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    copy = TransformerEncoderLayer.from_torch(layer)
    assert not any(m.training for m in copy.modules())


def test_sdpa_mask_may_carry_the_batch_dims_of_v_only():
    g = torch.Generator().manual_seed(7)
    q, k = torch.randn(3, 4, generator=g), torch.randn(5, 4, generator=g)
    v = torch.randn(2, 5, 2, generator=g)  # only v has a batch dim
    mask = _random_allowed(g, (2, 3, 5))
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 3, 2) and weights.shape == (2, 3, 5)
    expected = F.scaled_dot_product_attention(
        q.expand(2, 3, 4), k.expand(2, 5, 4), v, attn_mask=mask
    )
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)


def test_integer_mask_messages_say_how_to_convert():
    tail = (
        "or floating point (added to the scores: 0 = allowed, -inf = blocked), got dtype "
        "torch.int64. A tokenizer's attention_mask (1 = token, 0 = padding) becomes "
    )
    q = torch.zeros(3, 4)
    with pytest.raises(ValueError) as error:
        scaled_dot_product_attention(q, q, q, torch.ones(3, 3, dtype=torch.long))
    assert str(error.value) == (
        "mask must be boolean (True = may attend) "
        + tail
        + "a boolean mask with padding_mask(attention_mask)."
    )
    mha, x = MultiHeadAttention(8, 2), torch.randn(2, 4, 8)
    for name, blocked_means, kwargs in (
        ("key_padding_mask", "padding, ignored", {"key_padding_mask": torch.ones(2, 4).long()}),
        ("attn_mask", "blocked", {"attn_mask": torch.ones(4, 4).long()}),
    ):
        with pytest.raises(ValueError) as error:
            mha(x, x, x, **kwargs)
        assert str(error.value) == (
            f"{name} must be boolean (True = {blocked_means}) "
            + tail
            + "a key_padding_mask with ~attention_mask.bool()."
        )


def test_more_bad_input_messages():
    with pytest.raises(ValueError, match="positive ints"):
        MultiHeadAttention(0, 2)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="share the batch size"):
        mha(torch.randn(2, 4, 8), torch.randn(3, 4, 8), torch.randn(3, 4, 8))
    with pytest.raises(ValueError, match="torch.Tensor"):
        mha([[0.0]], torch.randn(2, 4, 8), torch.randn(2, 4, 8))
    with pytest.raises(ValueError, match="dim_feedforward"):
        TransformerEncoderLayer(8, 2, 0)
    with pytest.raises(ValueError, match="torch.Tensor"):
        TransformerEncoderLayer(8, 2, 16)([[0.0]])


def test_mha_float64_masks_keep_their_precision():
    torch.manual_seed(8)
    reference = nn.MultiheadAttention(8, 2, batch_first=True).double().eval()
    ours = MultiHeadAttention.from_torch(reference).eval()
    assert ours.q_proj.weight.dtype == torch.float64
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    shift = torch.randn(2 * 2, 5, 5, dtype=torch.float64) * 1e-3  # below float32's resolution
    kpm = torch.zeros(2, 5, dtype=torch.float64)
    kpm[1, 3:] = float("-inf")  # padding
    out, _ = ours(x, x, x, key_padding_mask=kpm, attn_mask=shift)
    assert out.dtype == torch.float64
    expected = reference(x, x, x, key_padding_mask=kpm, attn_mask=shift)[0]
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)


def _body_lines(function) -> int:
    """Lines of code in ``function``'s body, leaving out its docstring, comments and blanks."""
    source = textwrap.dedent(inspect.getsource(function))
    body = ast.parse(source).body[0].body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    lines = source.splitlines()[body[0].lineno - 1 : body[-1].end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def _counted_example(x):
    """A docstring is not code."""
    # nor is a comment

    y = x + 1  # this line counts
    return torch.stack(  # and so does each line of a statement
        [x, y],
        dim=0,
    )


REFERENCE_BODIES = [
    scaled_dot_product_attention,
    MultiHeadAttention.forward,
    TransformerEncoderLayer.forward,
]


@pytest.mark.parametrize("function", REFERENCE_BODIES, ids=lambda f: f.__qualname__)
def test_reference_bodies_read_like_the_maths(function):
    assert _body_lines(_counted_example) == 5
    # The lesson's few-line version plus a line or two of checks: the body fits on a screen.
    assert _body_lines(function) <= 15
    # Validation lives in the _check_* helpers: no raise nor try in the body itself.
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    assert not any(isinstance(node, ast.Raise | ast.Try) for node in ast.walk(tree))


def test_sdpa_body_shows_the_formula():
    source = inspect.getsource(scaled_dot_product_attention)
    assert "q @ k.transpose(-2, -1) / math.sqrt(" in source
    assert "torch.softmax(scores" in source and "weights @ v" in source

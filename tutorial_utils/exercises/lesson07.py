"""Checks for lesson 07 (generation from scratch)."""

from __future__ import annotations

from collections.abc import Callable

from . import exercise, require

NUCLEUS_TEMPERATURES = (0.25, 0.5, 1.0, 1.5, 2.0)


@exercise("07.min_p")
def check_min_p(min_p_filter: Callable) -> None:
    """``min_p_filter(scores, min_p)`` -> scores with tokens below min_p * top probability at -inf."""
    import torch
    from transformers import MinPLogitsWarper

    generator = torch.Generator().manual_seed(7)
    scores = torch.randn(3, 50, generator=generator) * torch.tensor([[0.5], [2.0], [4.0]])
    for min_p in (0.05, 0.3):
        expected = MinPLogitsWarper(min_p=min_p)(None, scores.clone())
        answer = min_p_filter(scores.clone(), min_p)
        require(
            isinstance(answer, torch.Tensor), f"return a torch tensor, not {type(answer).__name__}"
        )
        require(
            tuple(answer.shape) == tuple(scores.shape),
            f"return scores of the same shape {tuple(scores.shape)}, got {tuple(answer.shape)}",
        )
        removed, kept = expected.isinf(), ~expected.isinf()
        naive = scores < min_p * scores.max(dim=-1, keepdim=True).values
        if not torch.equal(answer.isinf(), removed):
            require(
                not torch.equal(answer.isinf(), naive),
                "compare probabilities (softmax of the scores), not the raw scores",
            )
        require(
            torch.equal(answer.isinf(), removed),
            f"with min_p={min_p}: keep exactly the tokens whose probability is at least "
            "min_p times the largest probability of the same row (per row, keepdim=True)",
        )
        require(
            torch.allclose(answer[kept], scores[kept]),
            "the kept tokens keep their original scores (return scores, not probabilities)",
        )


def _cache_bytes(config, batch_size: int, positions: int) -> int:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_config(config).eval()
    ids = torch.randint(0, config.vocab_size, (batch_size, positions))
    with torch.no_grad():
        cache = model(ids, use_cache=True).cache
    return sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)


@exercise("07.kv_cache_bytes")
def check_kv_cache_bytes(kv_cache_bytes: Callable) -> None:
    """``kv_cache_bytes(config, batch_size, positions)`` -> bytes of a float32 KV cache."""
    from transformers import GPT2Config, LlamaConfig

    small = dict(vocab_size=100, hidden_size=32, intermediate_size=64)
    cases = [
        ("a GPT-2-style model", GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=4), 3, 4),
        (
            "a model with fewer key/value heads than attention heads",
            LlamaConfig(**small, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2),
            2,
            7,
        ),
        (
            "a model whose head_dim is not hidden_size / heads",
            LlamaConfig(
                **small,
                num_hidden_layers=3,
                num_attention_heads=4,
                num_key_value_heads=1,
                head_dim=16,
            ),
            1,
            5,
        ),
    ]
    for name, config, batch_size, positions in cases:
        expected = _cache_bytes(config, batch_size, positions)
        answer = kv_cache_bytes(config, batch_size, positions)
        require(
            isinstance(answer, int | float),
            f"return a number of bytes, not {type(answer).__name__}",
        )
        require(
            answer != expected / 2,
            f"{name}: half the expected size - the cache stores keys AND values",
        )
        require(
            answer == expected,
            f"{name} (batch {batch_size}, {positions} positions): the cache holds {expected} "
            f"bytes, you computed {answer}. Bytes = 2 (keys, values) x layers x key/value heads "
            "x head size x batch x positions x 4 (float32)",
        )


@exercise("07.nucleus_sizes")
def check_nucleus_sizes(nucleus_sizes: Callable, scores) -> None:
    """``nucleus_sizes(scores, temperatures, top_p)`` -> {temperature: tokens top-p keeps}."""
    import torch
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    require(
        isinstance(scores, torch.Tensor) and scores.dim() == 2 and scores.shape[0] == 1,
        "pass the next-token scores of the open prompt of section 1, open_scores, "
        "shape (1, vocabulary)",
    )
    scores = scores.detach().float().cpu()
    nucleus = int((~TopPLogitsWarper(0.9)(None, scores.clone()).isinf()).sum())
    require(
        nucleus > 1,
        "top-p 0.9 keeps a single token of these scores, so every count would be 1: pass "
        "open_scores, the scores after the open prompt of section 1",
    )
    for top_p in (0.9, 0.5):
        answer = nucleus_sizes(scores.clone(), NUCLEUS_TEMPERATURES, top_p)
        require(isinstance(answer, dict), f"return a dict, not {type(answer).__name__}")
        require(
            sorted(float(t) for t in answer) == sorted(NUCLEUS_TEMPERATURES),
            f"one entry per temperature {NUCLEUS_TEMPERATURES}, got keys {sorted(answer)}",
        )
        for temperature in NUCLEUS_TEMPERATURES:
            tempered = TemperatureLogitsWarper(temperature)(None, scores.clone())
            kept = int((~TopPLogitsWarper(top_p)(None, tempered).isinf()).sum())
            value = next(v for t, v in answer.items() if float(t) == temperature)
            require(
                int(value) == kept,
                f"top_p={top_p}, temperature {temperature}: top-p keeps {kept} tokens, you "
                f"counted {value}. Apply the temperature first, then top-p, then count the "
                "scores that are not -inf",
            )

"""Forward + backward time of tutorial_utils.attention against PyTorch's modules.

Prints, for batch 32, d_model 256, 8 heads and sequence lengths 64 and 256, the median time
of one forward + backward pass and the ratio ours / PyTorch's (above 1: ours is slower).
PyTorch's ``nn.MultiheadAttention`` is timed twice: returning the weights (like ours) and
without them (its fused fast path). Run: ``python benchmarks/attention.py [--repeats N]``.
Close other programs first: timings on a shared CPU are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from tutorial_utils.attention import MultiHeadAttention, TransformerEncoderLayer

BATCH, D_MODEL, HEADS, FEEDFORWARD = 32, 256, 8, 1024


def timed(step: Callable[[], torch.Tensor], repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``step().sum().backward()``."""
    times = []
    for i in range(warmup + repeats):
        started = time.perf_counter()
        step().sum().backward()
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare(length: int, repeats: int) -> list[tuple[str, float, float]]:
    """(name, our seconds, PyTorch's seconds) for each module at one sequence length."""
    x = torch.randn(BATCH, length, D_MODEL, requires_grad=True)
    torch_mha = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
    our_mha = MultiHeadAttention.from_torch(torch_mha)
    torch_layer = nn.TransformerEncoderLayer(
        D_MODEL, HEADS, FEEDFORWARD, dropout=0.0, batch_first=True
    )
    our_layer = TransformerEncoderLayer.from_torch(torch_layer)
    ours = timed(lambda: our_mha(x, x, x)[0], repeats)
    cases = [
        (
            "MultiHeadAttention (weights)",
            ours,
            timed(lambda: torch_mha(x, x, x, need_weights=True)[0], repeats),
        ),
        (
            "MultiHeadAttention (fused)",
            ours,
            timed(lambda: torch_mha(x, x, x, need_weights=False)[0], repeats),
        ),
        (
            "TransformerEncoderLayer",
            timed(lambda: our_layer(x), repeats),
            timed(lambda: torch_layer(x), repeats),
        ),
    ]
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {BATCH}, "
        f"d_model {D_MODEL}, {HEADS} heads, feed-forward {FEEDFORWARD}; median of {args.repeats}"
    )
    print(f"{'module':<28}{'length':>7}{'ours (ms)':>11}{'torch (ms)':>12}{'ratio':>8}")
    for length in args.lengths:
        for name, mine, theirs in compare(length, args.repeats):
            print(
                f"{name:<28}{length:>7}{mine * 1e3:>11.1f}{theirs * 1e3:>12.1f}{mine / theirs:>8.2f}"
            )


if __name__ == "__main__":
    main()

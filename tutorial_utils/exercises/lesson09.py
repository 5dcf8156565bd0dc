"""Checks of lesson 09 (LoRA and scaling out): the LoRA forward pass, trainable parameters,
memory estimates and an adapter-size experiment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import Hint, exercise, require


@exercise("09.lora_forward")
def check_lora_forward(function: Any) -> None:
    """``function(x, linear, A, B, alpha)`` -> the LoRA layer's output."""
    import torch
    from torch import nn

    require(callable(function), "pass the function itself (no parentheses).")
    generator = torch.Generator().manual_seed(0)
    for r, alpha in ((4, 8.0), (2, 16.0)):
        linear = nn.Linear(10, 6)
        with torch.no_grad():
            linear.weight.copy_(torch.randn(6, 10, generator=generator))
            linear.bias.copy_(torch.randn(6, generator=generator))
        A = torch.randn(r, 10, generator=generator)
        B = torch.randn(6, r, generator=generator)
        x = torch.randn(3, 5, 10, generator=generator)
        expected = linear(x) + (alpha / r) * (x @ A.T @ B.T)
        with torch.no_grad():
            got = function(x, linear, A, B, alpha)
        require(
            isinstance(got, torch.Tensor),
            "return a tensor (the layer's output), not a number or a module.",
        )
        require(
            tuple(got.shape) == tuple(expected.shape),
            f"the output should have shape {tuple(expected.shape)} (batch..., out_features), "
            f"got {tuple(got.shape)}: A is (r, in_features), B is (out_features, r); "
            "compute x @ A.T @ B.T.",
        )
        if torch.allclose(got, expected, atol=1e-4):
            continue
        with torch.no_grad():
            no_scale = linear(x) + x @ A.T @ B.T
            no_base = (alpha / r) * (x @ A.T @ B.T)
            wrong_scale = linear(x) + (r / alpha) * (x @ A.T @ B.T)
        if torch.allclose(got, no_scale, atol=1e-4):
            raise Hint("multiply the low-rank part by the scaling alpha / r (r = A.shape[0]).")
        if torch.allclose(got, wrong_scale, atol=1e-4):
            raise Hint("the scaling is alpha / r, not r / alpha.")
        if torch.allclose(got, no_base, atol=1e-4):
            raise Hint("add the frozen layer's own output: linear(x) + scaling * ...")
        raise Hint(
            "the output is linear(x) + (alpha / r) * (x @ A.T @ B.T): the frozen layer "
            "(weight and bias) plus the scaled low-rank path."
        )


@exercise("09.trainable_share")
def check_trainable_share(function: Any) -> None:
    """``function(model)`` -> (trainable, total, share) with share = trainable / total."""
    from peft import LoraConfig, get_peft_model
    from torch import nn

    require(callable(function), "pass the function itself (no parentheses).")

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(50, 16)
            self.proj = nn.Linear(16, 16)
            self.out = nn.Linear(16, 2)

        def forward(self, x):
            return self.out(self.proj(self.embed(x)))

    model = get_peft_model(Tiny(), LoraConfig(r=2, lora_alpha=4, target_modules=["proj"]))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    got = function(model)
    require(
        isinstance(got, tuple) and len(got) == 3,
        "return a tuple of three numbers: (trainable, total, share).",
    )
    got_trainable, got_total, got_share = got
    if got_trainable == total:
        raise Hint(
            "that counts every parameter: count only those with p.requires_grad (LoRA freezes "
            "the rest)."
        )
    require(got_trainable == trainable, f"trainable should be {trainable:,}, got {got_trainable}.")
    require(
        got_total == total,
        f"total should count every parameter ({total:,}), got {got_total}: "
        "sum(p.numel() for p in model.parameters()).",
    )
    if abs(float(got_share) - 100 * trainable / total) < 1e-6:
        raise Hint("return the share as a fraction (trainable / total), not a percentage.")
    require(abs(float(got_share) - trainable / total) < 1e-9, "share = trainable / total.")


@exercise("09.memory_estimate")
def check_memory_estimate(function: Any) -> None:
    """``function(total, trainable, weight_bytes)`` -> GB for weights, gradients and Adam."""
    require(callable(function), "pass the function itself (no parentheses).")
    cases = [(22_700_000, 22_700_000, 4), (7_000_000_000, 8_400_000, 2), (110_000_000, 0, 4)]
    for total, trainable, weight_bytes in cases:
        expected = (total * weight_bytes + trainable * 12) / 1e9
        got = function(total, trainable, weight_bytes)
        require(isinstance(got, int | float), "return one number: gigabytes (1 GB = 1e9 bytes).")
        if abs(got - expected) <= 1e-6 * max(1.0, expected):
            continue
        if abs(got - (total * weight_bytes + trainable * 4) / 1e9) < 1e-6 * max(1.0, expected):
            raise Hint("Adam keeps two fp32 numbers per trainable parameter (8 bytes) as well.")
        if abs(got - (total * weight_bytes + trainable * 8) / 1e9) < 1e-6 * max(1.0, expected):
            raise Hint("each trainable parameter also needs its fp32 gradient (4 bytes).")
        if abs(got - (total * 16) / 1e9) < 1e-6 * max(1.0, expected):
            raise Hint(
                "only *trainable* parameters have gradients and optimizer state; frozen ones "
                "cost their weight bytes only."
            )
        if abs(got * 1e9 / 2**30 - expected) < 1e-6 * max(1.0, expected) or abs(
            got - expected * 1e9 / 2**30
        ) < 1e-6 * max(1.0, expected):
            raise Hint("use 1 GB = 1e9 bytes (not 2**30).")
        raise Hint(
            f"for total={total:,}, trainable={trainable:,}, weight_bytes={weight_bytes} expected "
            f"{expected:.3f} GB: total * weight_bytes + trainable * (4 + 8), over 1e9."
        )


@exercise("09.adapter_size")
def check_adapter_size(predicted_bytes: Any, folder: Any) -> None:
    """A rank-32 adapter on query, key and value, saved in ``folder``; prediction within 2%."""
    folder = Path(folder)
    config_file = folder / "adapter_config.json"
    require(
        config_file.is_file(),
        f"no adapter_config.json in {folder}: save the peft model there with "
        "peft_model.save_pretrained(folder).",
    )
    config = json.loads(config_file.read_text())
    require(config.get("r") == 32, f"build the adapter with r=32 (found r={config.get('r')}).")
    targets = set(config.get("target_modules") or [])
    require(
        {"query", "key", "value"} <= targets,
        f"target query, key and value (found {sorted(targets)}).",
    )
    weights = folder / "adapter_model.safetensors"
    require(weights.is_file(), f"no adapter_model.safetensors in {folder}.")
    actual = weights.stat().st_size
    require(
        isinstance(predicted_bytes, int | float) and predicted_bytes > 0,
        "predicted_bytes should be your predicted size in bytes, a positive number.",
    )
    error = abs(predicted_bytes - actual) / actual
    if error > 0.02:
        ratio = predicted_bytes / actual
        hint = (
            "each adapted layer stores A (r x in) and B (out x r): r * (in + out) numbers "
            "of 4 bytes (float32), times layers x target modules; the new classifier head "
            "is saved too."
        )
        if abs(ratio - 2) < 0.1 or abs(ratio - 0.5) < 0.1:
            hint = "off by a factor of two: A is r x in and B is out x r - count both once."
        raise Hint(
            f"you predicted {predicted_bytes:,.0f} bytes, the file has {actual:,} "
            f"({100 * error:.0f}% off): {hint}"
        )

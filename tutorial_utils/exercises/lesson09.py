"""Checks of lesson 09 (LoRA and scaling out): experiments whose predictions are compared with
what the lesson's runs saved (the rank of a learnt update, the gradients of a distributed step,
the bytes of an adapter), and a memory estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import Hint, exercise, require


def _tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    require(path.is_file(), f"no {path.name} in {path.parent}: run the cell that saves it first.")
    return load_file(str(path))


def update_ranks(adapter_file: Path) -> dict[str, int]:
    """The rank of ``B @ A`` (the learnt update, up to its scaling) of every adapted module."""
    import torch

    tensors = _tensors(adapter_file)
    ranks = {}
    for name, A in tensors.items():
        if ".lora_A." in name:
            B = tensors[name.replace(".lora_A.", ".lora_B.")]
            ranks[name.split(".lora_A.")[0]] = int(
                torch.linalg.matrix_rank(B.double() @ A.double())
            )
    return ranks


@exercise("09.update_rank")
def check_update_rank(predicted: Any, folders: Any) -> None:
    """``predicted[r]``: the rank of the update of a trained rank-r adapter, for each saved one."""
    require(
        isinstance(predicted, dict) and isinstance(folders, dict),
        "pass two dicts keyed by the LoRA rank r: your predictions and the adapter folders.",
    )
    for r, folder in folders.items():
        require(r in predicted, f"predict the rank for r={r} too.")
        ranks = update_ranks(Path(folder) / "adapter_model.safetensors")
        require(bool(ranks), f"no LoRA matrices in {folder}: pass the folders of section 7's runs.")
        measured = sorted(set(ranks.values()))
        guess = predicted[r]
        require(isinstance(guess, int), f"predicted[{r}] should be a whole number (a rank).")
        if measured != [guess]:
            hint = (
                f"the {len(ranks)} updates of the r={r} adapter have rank {measured}, "
                f"you predicted {guess}. "
            )
            if guess > r:
                hint += (
                    f"B @ A passes through r={r} dimensions (B is out x r, A is r x in): its "
                    f"rank cannot exceed r, however large the matrix."
                )
            else:
                hint += "a product of random-looking matrices uses every dimension it can."
            raise Hint(hint)


@exercise("09.gradient_ratio")
def check_gradient_ratio(predicted: Any, one_process: Any, many_processes: Any) -> None:
    """The norm of the N-process gradient over the 1-process one, with average_tokens on."""
    import torch

    one, many = Path(one_process), Path(many_processes)
    require(
        isinstance(predicted, int | float) and predicted > 0,
        "predicted should be one positive number: the ratio of the two gradients.",
    )
    settings = {}
    for folder in (one, many):
        results = folder / "results.json"
        require(results.is_file(), f"no results.json in {folder}: run the script there first.")
        settings[folder] = json.loads(results.read_text(encoding="utf-8"))
    require(settings[one]["world_size"] == 1, f"{one} should hold a 1-process run.")
    require(
        not settings[one].get("average_tokens_across_devices"),
        f"the 1-process reference in {one} should use the script's default.",
    )
    processes = settings[many]["world_size"]
    require(processes > 1, f"{many} holds a {processes}-process run: launch several processes.")
    require(
        settings[many].get("average_tokens_across_devices") is True,
        "run the N processes with --average-tokens-across-devices (the change to measure).",
    )
    reference, changed = (_tensors(f / "gradients.safetensors") for f in (one, many))
    require(reference.keys() == changed.keys(), "the two runs should train the same parameters.")

    def norm(tensors: dict) -> float:
        return float(torch.cat([t.flatten() for t in tensors.values()]).norm())

    measured = norm(changed) / norm(reference)
    if abs(predicted - measured) > 0.01 * measured:
        hint = f"you predicted {predicted:g}, the gradients' norms differ by {measured:.3f}x. "
        if abs(predicted - 1) < 0.01:
            hint += (
                "1 is what the script's default gives; with the option on, Trainer multiplies "
                "each process's (already averaged) loss by the number of processes first."
            )
        else:
            hint += (
                f"each of the {processes} processes multiplies its mean loss by {processes}, "
                "then DDP averages the gradients."
            )
        raise Hint(hint)


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


def tensor_bytes(path: Path) -> dict[str, int]:
    """Bytes of each tensor stored in a safetensors file, read from its header."""
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")  # the header's length comes first
        header = json.loads(handle.read(size))
    return {
        name: entry["data_offsets"][1] - entry["data_offsets"][0]
        for name, entry in header.items()
        if name != "__metadata__"
    }


@exercise("09.adapter_size")
def check_adapter_size(predicted_bytes: Any, folder: Any) -> None:
    """A rank-32 adapter on query, key and value, saved in ``folder``: its tensors' bytes, exactly."""
    folder = Path(folder)
    config_file = folder / "adapter_config.json"
    require(
        config_file.is_file(),
        f"no adapter_config.json in {folder}: save the peft model there with "
        "peft_model.save_pretrained(folder).",
    )
    config = json.loads(config_file.read_text(encoding="utf-8"))
    require(config.get("r") == 32, f"build the adapter with r=32 (found r={config.get('r')}).")
    targets = set(config.get("target_modules") or [])
    require(
        {"query", "key", "value"} <= targets,
        f"target query, key and value (found {sorted(targets)}).",
    )
    weights = folder / "adapter_model.safetensors"
    require(weights.is_file(), f"no adapter_model.safetensors in {folder}.")
    stored = tensor_bytes(weights)
    head = {name: size for name, size in stored.items() if ".lora_" not in name}
    require(
        bool(head),
        "the saved adapter holds no classification head: build it with "
        "LoraConfig(task_type=TaskType.SEQ_CLS, ...), which saves the new head too.",
    )
    actual, lora = sum(stored.values()), sum(stored.values()) - sum(head.values())
    require(
        isinstance(predicted_bytes, int | float) and predicted_bytes > 0,
        "predicted_bytes should be your predicted size in bytes, a positive number.",
    )
    if predicted_bytes == actual:
        return
    if predicted_bytes == lora:
        hint = (
            f"that is the LoRA matrices alone: the file also stores the new head "
            f"({', '.join(sorted(head))}: {sum(head.values()):,} bytes), which "
            "task_type=SEQ_CLS puts in modules_to_save because it starts random."
        )
    elif predicted_bytes == weights.stat().st_size:
        hint = (
            "that is the whole file, header included: predict the bytes of the tensors only "
            "(the header, a JSON list of names and shapes, is not a weight)."
        )
    elif abs(predicted_bytes / actual - 2) < 0.1 or abs(predicted_bytes / actual - 0.5) < 0.05:
        hint = "off by a factor of two: A is r x in and B is out x r - count both, once."
    else:
        hint = (
            "each adapted layer stores A (r x in) and B (out x r): r * (in + out) float32 "
            "numbers of 4 bytes, times layers x target modules; the new classifier head "
            "(weight and bias) is saved too."
        )
    raise Hint(
        f"you predicted {predicted_bytes:,.0f} bytes, the tensors in the file take {actual:,}: "
        f"{hint}"
    )

"""Checks of lesson 06 (fine-tuning with Trainer): metrics, TrainingArguments, the schedule."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import Hint, exercise, require


def _eval_preds(seed: int):
    from transformers import EvalPrediction

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(64, 2)).astype(np.float32)
    labels = rng.integers(0, 2, size=64)
    return EvalPrediction(predictions=logits, label_ids=labels), logits.argmax(-1), labels


@exercise("06.compute_metrics")
def check_compute_metrics(function: Any) -> None:
    """``function(eval_pred)`` -> ``{"accuracy", "precision", "recall"}`` of class 1."""
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    require(callable(function), "pass the function itself (no parentheses).")
    for seed in range(3):
        eval_pred, predicted, labels = _eval_preds(seed)
        result = function(eval_pred)
        require(isinstance(result, dict), "return a dict of metric name -> number.")
        keys = {"accuracy", "precision", "recall"}
        require(
            keys <= set(result), f"the dict needs the keys {sorted(keys)}, got {sorted(result)}."
        )
        expected = {
            "accuracy": accuracy_score(labels, predicted),
            "precision": precision_score(labels, predicted, zero_division=0),
            "recall": recall_score(labels, predicted, zero_division=0),
        }
        for key, value in expected.items():
            got = float(result[key])
            if abs(got - value) > 1e-6:
                hint = {
                    "accuracy": "take argmax(-1) of eval_pred.predictions (logits) first.",
                    "precision": "precision = true positives / predicted positives (class 1).",
                    "recall": "recall = true positives / actual positives (class 1).",
                }[key]
                raise Hint(f"{key} is {got:.4f}, expected {value:.4f}: {hint}")


def _value(setting: Any) -> str:
    """The string behind a TrainingArguments enum (IntervalStrategy, SchedulerType, ...)."""
    return str(getattr(setting, "value", setting))


@exercise("06.training_args")
def check_training_args(args: Any, out: Any) -> None:
    """TrainingArguments: 3 epochs, per-epoch eval and logging, cosine 3e-5, 6 % warm-up,
    weight decay 0.1, grouped by length, no reports."""
    from transformers import TrainingArguments

    require(isinstance(args, TrainingArguments), "build a transformers.TrainingArguments object.")
    folder = Path(args.output_dir).resolve()
    require(
        Path(out).resolve() in (folder, *folder.parents),
        "output_dir must be inside `out`, e.g. str(out / 'exercise').",
    )
    require(args.num_train_epochs == 3, "train for 3 epochs: num_train_epochs=3.")
    require(
        _value(args.eval_strategy) == "epoch",
        "evaluate once per epoch: eval_strategy='epoch' (the old name evaluation_strategy is "
        "gone in transformers 5).",
    )
    require(
        _value(args.logging_strategy) == "epoch",
        "log once per epoch too: logging_strategy='epoch' (logging_steps alone keeps the "
        "default strategy, 'steps').",
    )
    require(
        _value(args.lr_scheduler_type) == "cosine",
        "a cosine schedule: lr_scheduler_type='cosine' (the default is 'linear').",
    )
    require(abs(args.learning_rate - 3e-5) < 1e-12, "the peak learning rate: learning_rate=3e-5.")
    require(
        args.warmup_steps != 6,
        "warmup_steps=6 means 6 steps: for 6 % of the steps give a fraction, warmup_steps=0.06.",
    )
    require(
        abs(args.warmup_steps - 0.06) < 1e-12,
        "warm-up over 6 % of the steps: warmup_steps=0.06 (a float below 1 is a fraction of the "
        "steps; warmup_ratio is gone in transformers 5).",
    )
    require(abs(args.weight_decay - 0.1) < 1e-12, "weight_decay=0.1.")
    require(
        _value(args.train_sampling_strategy) == "group_by_length",
        "group batches by length: train_sampling_strategy='group_by_length' (group_by_length=True "
        "is gone in transformers 5).",
    )
    require(args.report_to in ([], ["none"], "none", None), "report_to='none' (no W&B etc.).")


SCHEDULE_CASES = [(100, 10), (427, 0.1), (25, 0.1), (50, 0)]
PEAK = 1e-4


def _reference_rates(total: int, warmup: float, steps: list[int]) -> list[float]:
    """The rates of transformers' own linear schedule, as Trainer builds it."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    warmup_steps = int(warmup) if warmup >= 1 else math.ceil(total * warmup)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=PEAK)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup_steps, total)
    return [PEAK * scheduler.lr_lambdas[0](step) for step in steps]


def _linear(step: int, total: int, warmup_steps: float, decay_from: float | None = None) -> float:
    """A linear warm-up/decay schedule with a given warm-up length (for the usual mistakes)."""
    if step < warmup_steps:
        return PEAK * step / warmup_steps
    start = warmup_steps if decay_from is None else decay_from
    return PEAK * max(0.0, (total - step) / max(1e-12, total - start))


def _matches(got: list[float], rates: list[float]) -> bool:
    return all(abs(a - b) <= 1e-9 * PEAK for a, b in zip(got, rates, strict=True))


MISTAKES = [
    (
        lambda total, warmup: int(total * warmup) if 0 < warmup < 1 else None,
        None,
        "the warm-up length rounds the fraction up: math.ceil(warmup * total_steps) steps.",
    ),
    (
        lambda total, warmup: warmup if 0 < warmup < 1 else None,
        None,
        "a warmup below 1 is a fraction of the steps, not a number of steps: the warm-up lasts "
        "math.ceil(warmup * total_steps) steps.",
    ),
    (
        lambda total, warmup: int(warmup) if warmup >= 1 else math.ceil(total * warmup),
        0.0,
        "after the warm-up the rate falls from the peak at the end of the warm-up to 0 at "
        "total_steps: peak * (total_steps - step) / (total_steps - warm-up steps).",
    ),
]


@exercise("06.learning_rate_schedule")
def check_learning_rate_schedule(function: Any) -> None:
    """``function(step, total_steps, peak, warmup)`` -> Trainer's linear schedule with warm-up."""
    require(callable(function), "pass the function itself (no parentheses).")
    for total, warmup in SCHEDULE_CASES:
        warmup_steps = int(warmup) if warmup >= 1 else math.ceil(total * warmup)
        steps = sorted(
            {0, 1, warmup_steps // 2, max(0, warmup_steps - 1), warmup_steps, total // 2, total}
        )
        expected = _reference_rates(total, warmup, steps)
        got = []
        for step in steps:
            try:
                got.append(float(function(step, total, PEAK, warmup)))
            except (TypeError, ValueError) as error:
                raise Hint("return one number, the learning rate at that step.") from error

        if _matches(got, expected):
            continue
        case = f"with total_steps={total}, warmup={warmup}, peak={PEAK:g}"
        for length, decay_from, hint in MISTAKES:
            wrong_length = length(total, warmup)
            if wrong_length is None or (wrong_length == warmup_steps and decay_from is None):
                continue
            if _matches(got, [_linear(s, total, wrong_length, decay_from) for s in steps]):
                raise Hint(f"{case}: {hint}")
        if warmup_steps and got[0] != 0:
            raise Hint(
                f"{case}: at step 0 the rate is 0; the warm-up rises as step / warm-up steps."
            )
        step, want, have = next(
            (s, e, g)
            for s, e, g in zip(steps, expected, got, strict=True)
            if abs(e - g) > 1e-9 * PEAK
        )
        raise Hint(f"{case}: at step {step} expected {want:.4g}, got {have:.4g}.")

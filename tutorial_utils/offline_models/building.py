"""What every offline training shares: its run (seed, device, clocks), its loop and its report.

A recipe (:mod:`.sentiment`, :mod:`.fill_mask`) opens a :class:`BuildRun`, trains with
:meth:`BuildRun.train` (the course's one loop, :func:`tutorial_utils.training.training_losses`,
with a progress bar), saves with :meth:`BuildRun.save` and ends with :meth:`BuildRun.report`:
the figures it measured plus how the build ran (wall and CPU time, threads, device, load
average, the recipe), one printed line, and a warning when the quality bar is missed.
Training runs on :func:`tutorial_utils.device` (a CUDA GPU when there is one, under mixed
precision there); random masks and batch orders are drawn on the CPU either way.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..env import device as default_device
from ..env import quiet, seed_everything
from ..precision import grad_scaler
from ..progress import progress
from ..training import training_losses


def load_average() -> float | None:
    """The 1-minute load average (build times depend on it); None where there is none."""
    try:
        return round(os.getloadavg()[0], 1)
    except (AttributeError, OSError):  # Windows
        return None


def mean_of_last(values: list[float], window: int) -> float:
    return sum(values[-window:]) / len(values[-window:])


class BuildRun:
    """One build of an offline model: quiets logs, seeds, picks the device, starts the clocks."""

    def __init__(self, recipe: Any, device: Any = None) -> None:
        import torch

        quiet()
        self.recipe = recipe
        self.started, self.cpu_started = time.time(), time.process_time()
        seed_everything(recipe.seed)
        self.device = torch.device(device if device is not None else default_device())
        self.train_seconds = 0.0

    def train(
        self,
        model: Any,
        batches: Iterable[Any],
        loss_of: Callable[[Any], Any],
        optimizer: Any,
        schedule: Any,
        desc: str,
        show: bool,
        window: int,
    ) -> list[float]:
        """``recipe.steps`` steps of the shared loop, with a bar showing the mean recent loss."""
        scaler = grad_scaler(self.device)
        model.train()
        losses: list[float] = []
        steps = training_losses(model, batches, loss_of, optimizer, schedule, scaler, self.device)
        with progress(total=self.recipe.steps, desc=desc, unit="step", disable=not show) as bar:
            for loss in steps:
                losses.append(loss)
                bar.update(1)
                bar.set_postfix(loss=f"{mean_of_last(losses, window):.3f}")
        self.train_seconds = time.time() - self.started
        return losses

    def fit(
        self,
        model: Any,
        lengths: list[int],
        loss_of: Callable[[list[int]], Any],
        desc: str,
        show: bool,
        window: int,
    ) -> list[float]:
        """Train on length-sorted batches of example indices with AdamW and a warm-up.

        ``lengths`` are the examples' token counts; batches of ``recipe.batch_size`` indices
        of similar length are drawn (reshuffled each pass, from ``recipe.seed``) until there
        are ``recipe.steps``; the learning rate ``recipe.lr`` warms up linearly over the
        first ``recipe.warmup`` share of the steps, then decays linearly to 0.
        """
        import torch
        from transformers import get_linear_schedule_with_warmup

        from ..batching import length_batches

        recipe = self.recipe
        generator = torch.Generator().manual_seed(recipe.seed)
        batches: list[list[int]] = []
        while len(batches) < recipe.steps:
            batches += length_batches(lengths, recipe.batch_size, generator)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay
        )
        schedule = get_linear_schedule_with_warmup(
            optimizer, int(recipe.steps * recipe.warmup), recipe.steps
        )
        return self.train(
            model, batches[: recipe.steps], loss_of, optimizer, schedule, desc, show, window
        )

    @staticmethod
    def save(model: Any, tokenizer: Any, folder: Path) -> None:
        """Save the model from the CPU, with its tokenizer, as ``from_pretrained`` reads it."""
        model.cpu().save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    def report(
        self, name: str, figures: dict[str, Any], passed: bool, missed: str, line: str, show: bool
    ) -> dict[str, Any]:
        """``figures`` plus how the build ran; prints ``line`` (and the build time) if ``show``.

        Warns when the model misses its quality bar (``passed`` false; ``missed`` says by
        how much): it is cached anyway, so the lessons can run.
        """
        import torch

        figures = {
            **figures,
            "train_seconds": round(self.train_seconds, 1),
            "seconds": round(time.time() - self.started, 1),
            "cpu_seconds": round(time.process_time() - self.cpu_started, 1),
            "threads": torch.get_num_threads(),
            "device": self.device.type,
            "load_average": load_average(),
            "recipe": asdict(self.recipe),
        }
        if show:
            print(f"{line}, built in {figures['seconds']:.0f} s")
        if not passed:
            warnings.warn(
                f"The {name} model built here misses its quality bar ({missed}). It is cached "
                "anyway so the lessons can run. A rebuild on this machine gives the same model: "
                "please report the figures with `python -m tutorial_utils doctor`'s output.",
                RuntimeWarning,
                stacklevel=3,
            )
        return figures

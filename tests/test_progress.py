"""Quiet logs: progress in a log file is a few lines per bar; a terminal keeps the live bar."""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass

import pytest
import torch

from tutorial_utils import __main__ as cli
from tutorial_utils import progress as progress_module
from tutorial_utils import roles
from tutorial_utils.offline_models.building import BuildRun
from tutorial_utils.progress import LineProgress, interactive, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_at_the_start_and_at_each_quarter():
    log = io.StringIO()
    with progress(total=200, desc="training", unit="step", stream=log) as bar:
        assert isinstance(bar, LineProgress)
        for step in range(200):
            bar.update(1)
            bar.set_postfix(loss=f"{1 / (step + 1):.3f}")
    lines = log.getvalue().splitlines()
    assert len(lines) == 5, lines
    assert lines[0].startswith("training: 0/200 step (0 %)")
    assert [line.split()[1] for line in lines] == [
        "0/200",
        "50/200",
        "100/200",
        "150/200",
        "200/200",
    ]
    assert lines[-1].startswith("training: 200/200 step (100 %)") and "loss=0.005" in lines[-1]
    assert "\r" not in log.getvalue()


def test_an_iterated_bar_and_a_disabled_one():
    log = io.StringIO()
    items = list(progress(range(7), desc="assets", unit="asset", stream=log))
    assert items == list(range(7))
    assert len(log.getvalue().splitlines()) == 5
    quiet = io.StringIO()
    with progress(total=10, desc="x", stream=quiet, disable=True) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""


def test_a_terminal_keeps_the_live_bar():
    from tqdm import tqdm

    screen = Terminal()
    assert interactive(screen) and not interactive(io.StringIO())
    with progress(total=3, desc="live", stream=screen) as bar:
        assert isinstance(bar, tqdm)
        bar.update(3)
    assert "live" in screen.getvalue() and "\r" in screen.getvalue()


def test_a_notebook_counts_as_watched(monkeypatch):
    monkeypatch.setattr(progress_module, "_in_notebook", lambda: True)
    assert interactive(io.StringIO())


@dataclass(frozen=True)
class _Recipe:
    seed: int = 0
    steps: int = 200


def test_a_build_writes_five_progress_lines_to_a_log(capsys):
    """The shared training loop of the offline builds, 200 steps, its bar on a non-tty stderr."""
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    run = BuildRun(_Recipe(), device="cpu")
    batches = (torch.randn(4, 3) for _ in range(200))
    losses = run.train(
        model, batches, lambda x: model(x).pow(2).mean(), optimizer, schedule, "toy", True, 10
    )
    assert len(losses) == 200
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 5 and all(line.startswith("toy: ") for line in lines), lines


def test_prepare_in_a_log_prints_a_few_lines_per_step(monkeypatch, capsys, tmp_path):
    steps = [
        roles.Step(f"step {i}", (f"role{i}",), lambda progress=True: tmp_path, None)
        for i in range(5)
    ]
    monkeypatch.setattr(roles, "prepare_steps", lambda: steps)
    assert cli._prepare(argparse.Namespace(no_progress=False)) == 0
    captured = capsys.readouterr()
    done = [line for line in captured.out.splitlines() if line.startswith("  done  step")]
    assert len(done) == 5
    bar_lines = captured.err.splitlines()
    assert 1 <= len(bar_lines) <= 5, bar_lines
    assert all(line.startswith("preparing offline assets:") for line in bar_lines)


@pytest.mark.parametrize("total", [1, 3, 1000])
def test_line_count_stays_small_whatever_the_total(total):
    log = io.StringIO()
    with progress(total=total, desc="d", stream=log) as bar:
        for _ in range(total):
            bar.update(1)
    assert 2 <= len(log.getvalue().splitlines()) <= 5

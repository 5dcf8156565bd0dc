"""scripts/finetune_sentiment.py as one and as two processes (one thread each, GPUs hidden).

`torchrun --nproc_per_node 2` runs the script's gradient check, one step on fixed examples,
and it gives the gradients of one process to float rounding (gradients are averaged across
processes, not summed). Training as two processes is checked on the run that lesson 09
already makes in the notebook tests (`accelerate launch --multi_gpu --num_processes 2`,
which on a CPU starts the processes with torch.distributed.run, as torchrun does; the
script's Trainer joins them with gloo): tests/test_notebooks.py reads that run's report, its
accuracy and its adapter, which names its base model by Hub id. Lesson 09's solutions'
exercise 2 (`09.gradient_ratio`) measures that transformers' default
`average_tokens_across_devices=True` doubles the gradient, the reason the script turns it off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutorial_utils.paths import project_root

ROOT = project_root()
SCRIPT = ROOT / "scripts" / "finetune_sentiment.py"
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "CUDA_VISIBLE_DEVICES": "",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]


def _run(launcher: list[str], *options: str) -> subprocess.CompletedProcess:
    command = [*launcher, str(SCRIPT), "--fast", *options]
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _gradients(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "gradients.safetensors"))


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory):
    """Two processes through torchrun: the gradient check alone (no training)."""
    out = tmp_path_factory.mktemp("torchrun")
    result = _run(
        [*TORCHRUN, "--master_port", "29517"],
        "--gradient-check",
        "--skip-training",
        "--output-dir",
        str(out),
    )
    return out, result


@pytest.fixture(scope="module")
def one_process_gradients(tmp_path_factory):
    out = tmp_path_factory.mktemp("one-process")
    env_threads = {**ENV, "OMP_NUM_THREADS": "2"}
    command = [sys.executable, str(SCRIPT), "--fast", "--gradient-check", "--skip-training"]
    result = subprocess.run(
        [*command, "--output-dir", str(out)],
        cwd=ROOT,
        env=env_threads,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["world_size"] == 1
    return _gradients(out)


def test_torchrun_joins_two_processes_and_only_the_main_one_reports(torchrun_run):
    out, result = torchrun_run
    assert result.stdout.strip().splitlines()[-1] == "world_size=2 gradient_check=done"
    assert result.stdout.count("gradient check: one step") == 1, "only the main process talks"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["world_size"] == 2
    assert results["per_device_batch"] * 2 == results["effective_batch"]
    assert results["average_tokens_across_devices"] is False


def _compare(one: dict, many: dict) -> tuple[float, float]:
    """(largest absolute difference, ratio of the gradient norms many / one)."""
    import torch

    assert one.keys() == many.keys() and len(one) > 2
    difference = max((one[name] - many[name]).abs().max().item() for name in one)
    norm = torch.cat([g.flatten() for g in many.values()]).norm()
    return difference, (norm / torch.cat([g.flatten() for g in one.values()]).norm()).item()


def test_two_processes_average_the_gradients_of_one_step(torchrun_run, one_process_gradients):
    out, result = torchrun_run
    assert "one step on 16 fixed examples (2 x 8)" in result.stdout
    many = _gradients(out)
    assert any("classifier" in name for name in many), "the new head trains and is checked too"
    largest = max(g.abs().max().item() for g in many.values())
    difference, ratio = _compare(one_process_gradients, many)
    assert largest > 1e-3, "gradients this small would make the comparison empty"
    assert difference < 1e-6, f"1 vs 2 processes differ by {difference:.1e}"
    assert ratio == pytest.approx(1.0, abs=1e-5)

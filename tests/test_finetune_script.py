"""scripts/finetune_sentiment.py runs as two processes through `accelerate launch` (fast mode).

On a CPU `accelerate launch --cpu --num_processes 2` starts one process (accelerate hands
multi-CPU runs to mpirun); `--multi_gpu --num_processes 2` starts two through
torch.distributed.run, and the script's Trainer joins them with gloo. GPUs are hidden so the
test is the same on every machine; one thread per process, as on two cores.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tutorial_utils.env import project_root

ROOT = project_root()
LAST_LINE = re.compile(r"^world_size=(\d+) held_out_accuracy=([0-9.]+) test_examples=(\d+)\b")


def test_script_runs_as_two_processes_with_accelerate_launch(tmp_path):
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29517",
        str(ROOT / "scripts" / "finetune_sentiment.py"),
        "--fast",
        "--output-dir",
        str(tmp_path),
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    match = LAST_LINE.match(last)
    assert match, f"unexpected last line: {last!r}"
    world_size, accuracy, examples = int(match[1]), float(match[2]), int(match[3])
    assert world_size == 2
    assert examples == 256
    assert accuracy >= 0.65, f"held-out accuracy {accuracy} barely beats chance (0.5)"
    assert result.stdout.count("held_out_accuracy=") == 1, "only the main process reports"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["per_device_batch"] * 2 == results["effective_batch"]
    assert (tmp_path / "model" / "adapter_model.safetensors").is_file()

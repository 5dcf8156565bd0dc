"""``python dev.py check`` on a broken laptop, dev.py's sub-commands and its one notebook strip.

The ready laptop (a fresh environment set up from a pack) is checked in test_classroom.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import checked_outputs

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "dev.py"
COMMANDS = [
    "install",
    "setup",
    "test",
    "lab",
    "run",
    "doctor",
    "prepare",
    "check",
    "clean",
    "pack",
    "student-copy",
]


@pytest.mark.notebook
def test_check_fails_on_a_laptop_without_models_or_class_setting(tmp_path):
    """An empty model cache and the class setting off: one FAIL line each, exit status 1."""
    from tutorial_utils.roles import recipe_versions

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTORIAL_", "COURSE_"))}
    env.update(
        COURSE_VENV=sys.prefix,
        TUTORIAL_CACHE=str(tmp_path / "empty-cache"),
        TUTORIAL_OFFLINE="0",  # turns a classroom.toml in the project off, too
    )
    result = subprocess.run(
        [sys.executable, DEV, "check"], env=env, capture_output=True, text=True, timeout=600
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert any(line.startswith("ok    packages") for line in lines), result.stdout
    for entry in recipe_versions():
        assert any(line.startswith("FAIL  model") and entry in line for line in lines), entry
    assert any(line.startswith("FAIL  class setting  off") for line in lines)
    assert any(line.startswith("FAIL  lesson 00      not run") for line in lines)
    assert lines[-1].startswith("not ready:")
    assert all(line.startswith(("ok    ", "FAIL  ", "not ready:")) for line in lines), lines
    assert not list((tmp_path / "empty-cache").iterdir()), "the check built or imported models"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_its_help(command):
    result = subprocess.run(
        [sys.executable, DEV, command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python dev.py {command}"), result.stdout[:200]


def test_dev_py_lists_its_commands_and_refuses_unknown_arguments():
    listed = subprocess.run([sys.executable, DEV], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and all(c in listed.stdout for c in COMMANDS)
    wrong = subprocess.run(
        [sys.executable, DEV, "clean", "--bogus"], capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "unrecognized arguments for clean: --bogus" in wrong.stderr


def test_setup_and_pack_read_their_old_arguments():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_dev", DEV)
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    args, extra = dev.parser().parse_known_args(
        ["setup", "--from", "..", "--fast", "notebooks/00_setup_and_hub_tour.ipynb", "--no-html"]
    )
    assert args.source == ".." and args.fast and not args.no_run
    assert dev.series_args(args, extra) == [
        "--fast",
        "notebooks/00_setup_and_hub_tour.ipynb",
        "--no-html",
    ]
    whole = ["setup", "--lang", "zh-CN", "--output", "out", "--no-html"]
    args, extra = dev.parser().parse_known_args(whole)  # options with values keep them
    assert dev.series_args(args, extra, default_jobs=2) == [
        "--lang",
        "zh-CN",
        "--output",
        "out",
        "--jobs",
        "2",
        "--no-html",
    ]
    assert dev.series_args(args, extra, default_jobs=1)[4:] == ["--no-html"]
    args, extra = dev.parser().parse_known_args(["setup", "--jobs", "1"])
    assert dev.series_args(args, extra, default_jobs=2) == ["--jobs", "1"]  # the user's choice
    args, extra = dev.parser().parse_known_args(["test", "tests/test_x.py", "-x", "-k", "a or b"])
    assert extra == ["tests/test_x.py", "-x", "-k", "a or b"]
    args, _ = dev.parser().parse_known_args(["pack", "out", "--fast"])
    assert args.fast and not args.no_build  # the old name of --no-build, still accepted


def test_setup_runs_two_notebooks_at_a_time_with_two_cores_and_enough_memory():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_dev", DEV)
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    assert dev.series_jobs(cores=2, memory=dev.SERIES_MEMORY_GB) == 2
    assert dev.series_jobs(cores=1, memory=64) == 1
    assert dev.series_jobs(cores=16, memory=dev.SERIES_MEMORY_GB - 1) == 1
    assert dev.memory_gb() > 1  # this machine's memory, read with the standard library


def test_the_tools_dev_py_imports_need_only_the_standard_library():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import tools.classroom, tools.classroom_pack, tools.checked_outputs, tools.pip_for"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _notebook(path: Path) -> Path:
    cells = [
        {
            "cell_type": "code",
            "id": "a",
            "metadata": {"execution": {"x": 1}, "tags": ["parameters"]},
            "source": ["x = 1"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}],
            "execution_count": 3,
        },
        {
            "cell_type": "code",
            "id": "b",
            "metadata": {},
            "source": [f"{checked_outputs.MARK}\n", "print(2)"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["2\n"]}],
            "execution_count": 4,
        },
    ]
    metadata = {"papermill": {}, "widgets": {"state": {}}, "kernelspec": {"name": "python3"}}
    path.write_text(
        json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4}), encoding="utf-8"
    )
    return path


def test_one_strip_rule_for_the_repository_and_the_student_copy(tmp_path):
    source = _notebook(tmp_path / "lesson.ipynb")
    copy = tmp_path / "copy" / "lesson.ipynb"
    assert checked_outputs.clean_notebook(source, copy, keep_checked=False)
    handed_out = json.loads(copy.read_text(encoding="utf-8"))
    assert all(not c["outputs"] and c["execution_count"] is None for c in handed_out["cells"])
    assert set(handed_out["metadata"]) == {"kernelspec"}
    assert checked_outputs.clean_notebook(source)  # in place: the checked cell keeps its output
    kept = json.loads(source.read_text(encoding="utf-8"))
    assert kept["cells"][0]["outputs"] == [] and kept["cells"][1]["outputs"]
    assert kept["cells"][0]["metadata"] == {"tags": ["parameters"]}
    assert not checked_outputs.clean_notebook(source), "a second clean changed it again"
    assert "def strip_notebook" not in DEV.read_text(encoding="utf-8")

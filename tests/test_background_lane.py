"""conftest's background lane: slow shared work starts once the tests are collected, the
tests that wait for it run last, and a collect-only run starts nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tutorial_utils.paths import project_root

ROOT = project_root()

MODULE = """
import time
from pathlib import Path

import pytest

PENDING = []


def start_background(lane, items):
    PENDING.append(lane.submit(work))


def work():
    Path("work-started").write_text(str(time.time()))
    time.sleep(1)
    return "made"


@pytest.fixture
def classroom():
    return PENDING[0].result()


def test_waits_for_the_work(classroom):  # first in the file, run last
    assert classroom == "made"


def test_runs_while_the_work_does():
    time.sleep(0.5)
    assert Path("work-started").is_file(), "the work had not started while this test ran"
"""


def _session(folder: Path, *options: str) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "tests" / "conftest.py", folder / "conftest.py")
    (folder / "test_lane.py").write_text(MODULE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-W", "ignore", *options],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_work_starts_at_once_and_its_tests_run_last(tmp_path):
    result = _session(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    order = [line for line in result.stdout.splitlines() if " PASSED" in line]
    assert [line.split("::")[1].split()[0] for line in order] == [
        "test_runs_while_the_work_does",
        "test_waits_for_the_work",
    ]


def test_collecting_only_starts_no_work(tmp_path):
    result = _session(tmp_path, "--collect-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tests collected" in result.stdout
    assert not (tmp_path / "work-started").exists()


def test_each_piece_of_work_runs_beside_the_others():
    """The classroom pack and the notebook runs start together: neither waits for the other."""
    import threading

    from conftest import Lane

    lane = Lane()
    both = threading.Barrier(2, timeout=10)  # broken unless the two works run at once
    try:
        first, second = lane.submit(both.wait), lane.submit(both.wait)
        assert sorted([first.result(timeout=20), second.result(timeout=20)]) == [0, 1]
    finally:
        lane.close()

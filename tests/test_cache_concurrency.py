"""The tutorial cache with real processes: two builds of one entry at once, a killed build."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutorial_utils import cache

ROOT = Path(__file__).resolve().parents[1]

# A process that asks for one cache entry. Its builder records each build in a counter file,
# writes a file, then waits until the test creates the gate file and sleeps a little more.
WORKER = """
import os, sys, time
from pathlib import Path
from tutorial_utils import cache

name, gate, counter, pause = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])

def build(folder):
    with counter.open("a") as f:
        f.write(f"{os.getpid()}\\n")
    (folder / "weights.bin").write_bytes(b"\\x01" * 2**20)
    deadline = time.monotonic() + 60
    while not gate.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never opened the gate")
        time.sleep(0.02)
    time.sleep(pause)
    return {"pid": os.getpid()}

print("RESULT", cache.get_or_build(name, build, "v1", "the test entry"), flush=True)
"""


class Workers:
    """Start worker processes; read what they print; never leave one running."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.gate = folder / "gate"
        self.counter = folder / "builds.txt"
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str = "entry", pause: float = 0.0) -> subprocess.Popen:
        out = (self.folder / f"worker-{len(self.procs)}.txt").open("w")
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
        )
        args = [name, str(self.gate), str(self.counter), str(pause)]
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", WORKER, *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.procs.append(proc)
        return proc

    def output(self, i: int) -> str:
        return (self.folder / f"worker-{i}.txt").read_text(encoding="utf-8")

    def finish(self, timeout: float = 30) -> list[str]:
        outputs = []
        for i, proc in enumerate(self.procs):
            assert proc.wait(timeout) == 0, self.output(i)
            outputs.append(self.output(i))
        return outputs

    def builds(self) -> int:
        return len(self.counter.read_text(encoding="utf-8").split()) if self.counter.exists() else 0

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(tmp_path):
    w = Workers(tmp_path)
    yield w
    w.stop()


def wait_for(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def building(root: Path, name: str = "entry") -> Path | None:
    """The temporary folder of a build of ``name`` once its builder has written a file."""
    folders = [p for p in root.glob(f".tmp-{name}-*") if (p / "weights.bin").is_file()]
    return folders[0] if folders else None


def result(output: str) -> Path:
    return Path(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])


def test_second_process_waits_and_uses_the_first_build(private_cache, workers):
    workers.start()
    wait_for(lambda: building(private_cache), "the first build to start")
    workers.start()
    wait_for(lambda: "Waiting for another process" in workers.output(1), "the second to wait")
    assert workers.builds() == 1
    workers.gate.touch()
    first, second = workers.finish()
    assert "Building the test entry" in first and "Building" not in second
    assert result(first) == result(second) == private_cache / "entry"
    assert workers.builds() == 1
    assert cache.entry_problem(private_cache / "entry", "v1") is None
    assert not list(private_cache.glob(".tmp-*"))


def test_processes_started_together_build_once(private_cache, workers):
    workers.gate.touch()
    for _ in range(3):
        workers.start(pause=1.0)
    outputs = workers.finish()
    assert workers.builds() == 1
    assert {result(o) for o in outputs} == {private_cache / "entry"}
    assert cache.entry_problem(private_cache / "entry", "v1") is None
    assert not list(private_cache.glob(".tmp-*"))


def test_killed_build_leaves_a_leftover_that_the_next_build_removes(private_cache, workers):
    proc = workers.start()
    tmp = wait_for(lambda: building(private_cache), "the build to start")
    # while the build is alive, its folder is in use: clearing the cache keeps it
    messages: list[str] = []
    assert cache.clear_cache(log=messages.append) == []
    assert tmp.exists() and any("Skipped entry" in m for m in messages)
    assert cache.cache_summary()[0]["state"].startswith("being written by another process")

    proc.kill()  # a kernel killed mid-build: no cleanup code runs
    proc.wait(30)
    assert tmp.exists() and not (private_cache / "entry").exists()
    [row] = cache.cache_summary()
    assert row["entry"] == tmp.name and row["size_mb"] == 1.0
    assert row["state"].startswith("leftover of an interrupted build")

    messages = []
    entry = cache.get_or_build(
        "entry", lambda f: (f / "w.bin").write_bytes(b"1"), "v1", log=messages.append
    )
    assert not tmp.exists() and not list(private_cache.glob(".tmp-*"))
    assert any(tmp.name in m and "1.0 MB freed" in m for m in messages)
    assert cache.entry_problem(entry, "v1") is None
    assert [r["state"] for r in cache.cache_summary()] == ["complete"]

"""tools.notebook_pool: notebooks side by side, never two of one lesson, threads shared out."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tools.notebook_pool import Job, longest_first, may_start, run_jobs, threads_per_kernel
from tools.series import run_notebook

PROBE = """\
import json, os, time
start = time.time()
time.sleep(float(os.environ.get("NAP", "2")))
print(json.dumps({"start": start, "end": time.time(), "threads": os.environ.get("OMP_NUM_THREADS"),
                  "who": os.environ.get("WHO"), "stray": os.environ.get("STRAY"),
                  "nice": os.nice(0) if hasattr(os, "nice") else None}))
"""
OWN_NICENESS = os.nice(0) if hasattr(os, "nice") else None


def _notebook(folder: Path, name: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(PROBE)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / name
    nbformat.write(notebook, str(path))
    return path


def _jobs(*names: str) -> list[Job]:
    return [Job(Path(name), Path("out")) for name in names]


def test_two_notebooks_of_one_lesson_never_run_together():
    jobs = _jobs("01_a.ipynb", "solutions/01_a_solutions.ipynb", "02_b.ipynb")
    assert not may_start(1, jobs, waiting={1, 2}, running={0})  # lesson 01 is running
    assert may_start(2, jobs, waiting={1, 2}, running={0})
    assert may_start(1, jobs, waiting={1}, running={2})


def test_lesson_06_waits_for_lesson_02_whose_results_it_reads():
    jobs = _jobs("02_scratch.ipynb", "03_p.ipynb", "06_ft.ipynb")
    assert not may_start(2, jobs, waiting={2}, running={0})
    assert may_start(2, jobs, waiting={2}, running={1})
    # a list without lesson 02 does not hold lesson 06 back
    assert may_start(1, _jobs("03_p.ipynb", "06_ft.ipynb"), waiting={1}, running={0})


def test_threads_are_shared_out(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert threads_per_kernel(2) == 1 and threads_per_kernel(1) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert threads_per_kernel(2) == 1


def test_a_pool_overlaps_lessons_and_keeps_one_lesson_in_turn(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    paths = [_notebook(folder, n) for n in ("01_a.ipynb", "01_b.ipynb", "02_c.ipynb")]
    jobs = [Job(p, tmp_path / "out" / p.stem, env={"WHO": p.stem}, html=False) for p in paths]
    started: list[int] = []
    results = dict(run_jobs(run_notebook, jobs, workers=2, on_start=started.append))
    assert sorted(results) == [0, 1, 2] and sorted(started) == [0, 1, 2]
    printed = {}
    for index, result in results.items():
        assert result.status == "ok", result.error
        cell = json.loads(result.output.read_text(encoding="utf-8"))["cells"][0]
        printed[index] = json.loads("".join(cell["outputs"][0]["text"]))
    assert {p["who"] for p in printed.values()} == {"01_a", "01_b", "02_c"}  # each its own env
    assert {p["threads"] for p in printed.values()} == {str(threads_per_kernel(2))}
    assert {p["nice"] for p in printed.values()} == {OWN_NICENESS}  # the caller's priority
    a, b, c = printed[0], printed[1], printed[2]
    assert a["end"] <= b["start"] or b["end"] <= a["start"], "two runs of lesson 01 overlapped"
    assert c["start"] < max(a["end"], b["end"]), "lesson 02 did not run beside lesson 01"


def test_from_the_background_one_runs_until_more_are_allowed_at_the_environment_and_priority_given(
    tmp_path, monkeypatch
):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    paths = [_notebook(folder, n) for n in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb")]
    naps = {"01_a": "2", "02_b": "10", "03_c": "2"}  # 02_b waits while a second worker starts
    jobs = [
        Job(p, tmp_path / "out" / p.stem, env={"WHO": p.stem, "NAP": naps[p.stem]}, html=False)
        for p in paths
    ]
    environment = dict(os.environ)  # taken before a test changes this process's environment
    monkeypatch.setenv("STRAY", "set by another test while the workers start")
    more = threading.Event()
    results = {}
    runs = run_jobs(
        run_notebook,
        jobs,
        workers=2,
        allowed=lambda: 2 if more.is_set() else 1,
        environment=environment,
        cwd=tmp_path,
        niceness=3,
    )
    for index, result in runs:
        results[index] = result
        more.set()  # once the first has ended, two may run at once
    printed = {}
    for index, result in results.items():
        assert result.status == "ok", result.error
        cell = json.loads(result.output.read_text(encoding="utf-8"))["cells"][0]
        printed[index] = json.loads("".join(cell["outputs"][0]["text"]))
    assert {p["stray"] for p in printed.values()} == {None}  # the environment given, whole
    if OWN_NICENESS is not None:  # a lower priority, where the system has one (not Windows)
        assert {p["nice"] for p in printed.values()} == {min(OWN_NICENESS + 3, 19)}
    assert {p["who"] for p in printed.values()} == {"01_a", "02_b", "03_c"}
    a, b, c = printed[0], printed[1], printed[2]
    assert a["end"] <= min(b["start"], c["start"]), "a second ran while only one was allowed"
    assert b["start"] < c["end"] and c["start"] < b["end"], "two allowed, but they did not overlap"


def _fake_run(path, output_dir, parameters, html):
    """A runner that runs nothing: the order of the calls is what these tests read."""
    from tools.series import RunResult

    return RunResult(path.name, "ok", 0.0, 0.0)


def test_jobs_start_in_the_order_given_and_06_still_waits_for_02():
    jobs = _jobs("00_a.ipynb", "02_b.ipynb", "06_c.ipynb", "09_d.ipynb")
    started: list[int] = []
    list(run_jobs(_fake_run, jobs, workers=1, on_start=started.append, order=[3, 2, 1, 0]))
    assert started == [3, 1, 2, 0]  # 09 first as asked; 06 had to wait for 02
    started.clear()
    list(run_jobs(_fake_run, jobs, workers=1, on_start=started.append))
    assert started == [0, 1, 2, 3]


def test_an_order_that_misses_a_job_is_refused():
    import pytest

    with pytest.raises(ValueError, match="each of the 2 jobs once"):
        list(run_jobs(_fake_run, _jobs("00_a.ipynb", "01_b.ipynb"), order=[0, 0]))


def test_the_longest_lessons_are_offered_first_the_rest_keep_their_order():
    jobs = _jobs("00_a.ipynb", "02_b.ipynb", "06_c.ipynb", "09_d.ipynb", "solutions/09_d_s.ipynb")
    assert longest_first(jobs) == [3, 4, 1, 2, 0]

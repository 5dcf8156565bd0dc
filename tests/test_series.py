"""tools.series: runs notebooks in fresh kernels and leaves the caller's environment alone."""

from __future__ import annotations

import json
import os

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tools.series import format_table, run_series


def _notebook(folder, source: str):
    notebook = new_notebook(cells=[new_code_cell(source)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "probe.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_fast_series_sets_fast_mode_for_the_kernels_only(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTORIAL_FAST", raising=False)
    path = _notebook(tmp_path, "import os\nprint('FAST', os.environ.get('TUTORIAL_FAST'))")
    lines: list[str] = []
    results = run_series([path], tmp_path / "out", fast=True, html=False, log=lines.append)
    assert [r.status for r in results] == ["ok"]
    executed = json.loads(results[0].output.read_text(encoding="utf-8"))
    probe = next(c for c in executed["cells"] if "print" in "".join(c["source"]))
    printed = "".join(probe["outputs"][0]["text"])
    assert printed.strip() == "FAST 1"  # the kernel ran in fast mode
    assert "TUTORIAL_FAST" not in os.environ  # and the caller's environment is as it was
    assert "probe.ipynb" in format_table(results)


def test_a_failing_notebook_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_FAST", "0")
    path = _notebook(tmp_path, "raise ValueError('broken on purpose')")
    results = run_series([path], tmp_path / "out", fast=True, html=False, log=lambda _: None)
    assert results[0].status == "FAILED" and "broken on purpose" in results[0].error
    assert os.environ["TUTORIAL_FAST"] == "0"  # restored to its earlier value


def test_store_keeps_outputs_of_checked_cells_only(tmp_path, monkeypatch):
    from tools.checked_outputs import MARK, store

    monkeypatch.delenv("TUTORIAL_FAST", raising=False)
    notebook = new_notebook(
        cells=[
            new_code_cell(f"{MARK}\nimport os\nprint('FAST', os.environ.get('TUTORIAL_FAST'))"),
            new_code_cell("print('not kept')"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "checked.ipynb"
    nbformat.write(notebook, str(path))
    assert store(path) == 1
    checked, plain = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert "".join(checked["outputs"][0]["text"]).strip() == "FAST 1"  # run in fast mode
    assert plain["outputs"] == [] and "TUTORIAL_FAST" not in os.environ

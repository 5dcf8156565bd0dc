"""Cells whose outputs the repository keeps: those whose first line is ``# NBVAL_CHECK_OUTPUT``.

The series test (tests/test_notebooks.py) compares their output in its run with the stored
one, as nbval's ``--nbval-lax`` would; every other cell is committed without output. Store the outputs after changing such a cell:

    .venv/bin/python -m tools.checked_outputs notebooks/00_setup_and_hub_tour.ipynb
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

MARK = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell: dict) -> bool:
    """True for a code cell whose first line is the ``# NBVAL_CHECK_OUTPUT`` marker."""
    source = "".join(cell.get("source", []))
    return cell.get("cell_type") == "code" and source.lstrip().startswith(MARK)


def _write(path: Path, notebook: dict) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def strip_outputs(notebook: dict, keep_checked: bool = True) -> dict:
    """Remove outputs, execution counts and run metadata from ``notebook`` (changed in place).

    The one rule set for notebooks the project stores or hands out: ``keep_checked`` keeps
    the outputs of the ``# NBVAL_CHECK_OUTPUT`` cells (the repository); ``False`` removes
    every output (the student copy of ``python dev.py student-copy``).
    """
    for cell in notebook.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in ("execution", "papermill"):
            metadata.pop(key, None)
        if cell.get("cell_type") == "code" and not (keep_checked and is_checked(cell)):
            cell["outputs"] = []
            cell["execution_count"] = None
    for key in ("papermill", "widgets"):
        notebook.get("metadata", {}).pop(key, None)
    return notebook


def clean_notebook(path: Path, target: Path | None = None, keep_checked: bool = True) -> bool:
    """Strip ``path`` (see :func:`strip_outputs`) into ``target`` (default: in place).

    Returns True when the written notebook differs from ``path`` (nothing is written in
    place when nothing changed).
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    before = json.dumps(notebook, sort_keys=True)
    strip_outputs(notebook, keep_checked)
    changed = json.dumps(notebook, sort_keys=True) != before
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, notebook)
    elif changed:
        _write(path, notebook)
    return changed


def store(path: Path) -> int:
    """Execute ``path`` in fast mode and keep the outputs of its checked cells; returns how many."""
    from tools.series import run_notebook, temporary_environment

    with tempfile.TemporaryDirectory() as tmp, temporary_environment({"TUTORIAL_FAST": "1"}):
        result = run_notebook(path, Path(tmp), {"FAST": True}, html=False)
        if result.status != "ok":
            raise RuntimeError(f"{path.name} failed, nothing stored: {result.error}")
        ran = {c["id"]: c for c in json.loads(result.output.read_text(encoding="utf-8"))["cells"]}
    notebook = json.loads(path.read_text(encoding="utf-8"))
    stored = 0
    for index, cell in enumerate(notebook["cells"]):
        if is_checked(cell) and cell["id"] in ran:
            cell["outputs"] = ran[cell["id"]]["outputs"]
            cell["execution_count"] = index
            stored += 1
    _write(path, notebook)
    return stored


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: stored outputs of {store(Path(name))} checked cell(s)")

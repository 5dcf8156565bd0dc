"""Lesson 10 (Chinese text) and its solution run offline in fast mode, with their asserts;
the solution passes its checked exercises and the lesson leaves them unattempted; the prose
states no hard-coded results of the run (numbers come from printed cells).

``tests/test_notebooks.py`` runs every lesson too; this file runs lesson 10 on its own so its
checks can be read from the executed copies.
"""

from __future__ import annotations

import json

import pytest

from tools.series import run_notebook
from tutorial_utils import exercises
from tutorial_utils.env import project_root

ROOT = project_root()
LESSON = ROOT / "notebooks" / "10_chinese_text.ipynb"
SOLUTION = ROOT / "notebooks" / "solutions" / "10_chinese_text_solutions.ipynb"
RUNS = ROOT / "outputs" / "test-runs" / "lesson10"


def _text(executed) -> str:
    found = []
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            found.append("".join(output.get("text", "")))
    return "\n".join(found)


@pytest.fixture(autouse=True)
def fast_mode(monkeypatch):
    monkeypatch.setenv("TUTORIAL_FAST", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TUTORIAL_OUTPUT_DIR", str(RUNS / "lesson-outputs"))


def test_lesson10_exercises_are_registered():
    assert {"10.unk_share", "10.to_bio"} <= set(exercises.available())


@pytest.mark.notebook
@pytest.mark.parametrize("path", [LESSON, SOLUTION], ids=lambda p: p.name)
def test_lesson10_runs_offline_in_fast_mode(path):
    result = run_notebook(path, RUNS / path.parent.name, {"FAST": True}, html=False)
    assert result.status == "ok", f"{path.name} failed: {result.error} (see {result.output})"
    text = _text(result.output)
    assert "tokens per character" in text and "F1 micro" in text
    assert "offline:" in text and "bert-base-chinese" in text  # zh-fill-mask is online-only
    assert "share of Chinese characters" in text
    if path == SOLUTION:
        assert "[ok] 10.unk_share: correct!" in text and "[ok] 10.to_bio: correct!" in text
    else:
        assert "10.unk_share: not attempted yet" in text


def test_lesson10_cell_ids_and_parameters():
    for path in (LESSON, SOLUTION):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        ids = [c["id"] for c in cells]
        assert len(ids) == len(set(ids))
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1 and "FAST = tu.fast_mode()" in "".join(tagged[0]["source"])

"""Lesson 10 (Chinese text): its exercises are registered, its cells well formed, and the
series test (``tests/test_notebooks.py``, which runs every lesson and solution once) checks
what both notebooks print: the solution passes its checked exercises, the lesson leaves them
unattempted.
"""

from __future__ import annotations

import json

from tools.series import lesson_notebooks
from tutorial_utils import exercises
from tutorial_utils.paths import project_root

ROOT = project_root()
LESSON = ROOT / "notebooks" / "10_chinese_text.ipynb"
SOLUTION = ROOT / "notebooks" / "solutions" / "10_chinese_text_solutions.ipynb"


def test_lesson10_exercises_are_registered():
    assert {"10.unk_share", "10.to_bio"} <= set(exercises.available())


def test_the_series_test_checks_what_lesson10_prints():
    """``tests/test_notebooks.py`` runs both notebooks once and checks their printed lines."""
    from tests.test_notebooks import PRINTS

    assert "[ok] 10.to_bio: correct!" in PRINTS["solutions/" + SOLUTION.name]
    assert "10.unk_share: not attempted yet" in PRINTS[LESSON.name]
    assert LESSON.name in {p.name for p in lesson_notebooks(include_solutions=True)}
    assert SOLUTION.name in {p.name for p in lesson_notebooks(include_solutions=True)}


def test_lesson10_cell_ids_and_parameters():
    for path in (LESSON, SOLUTION):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        ids = [c["id"] for c in cells]
        assert len(ids) == len(set(ids))
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1 and "FAST = tu.fast_mode()" in "".join(tagged[0]["source"])

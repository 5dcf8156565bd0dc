"""The exercise checker: passes right answers, gives hints for wrong ones, never raises."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tutorial_utils import exercises
from tutorial_utils.exercises import check

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.series import lesson_notebooks  # noqa: E402


def test_unknown_exercise_lists_known_ones():
    with pytest.raises(ValueError, match="00.pipeline_tasks"):
        check("00.nope", 1)


def _checked_in(path: Path) -> set[str]:
    """The exercise names a notebook's code cells pass to ``tu.exercises.check``."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    return set(re.findall(r"""exercises\.check\(\s*["']([^"']+)["']""", code))


LESSONS = lesson_notebooks(include_solutions=False)


def test_every_lesson_notebook_is_found():
    assert [p.name[:2] for p in LESSONS] == [f"{i:02d}" for i in range(len(LESSONS))]
    assert len(LESSONS) >= 10


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name[:2])
def test_every_lesson_registers_its_exercises(lesson):
    number = lesson.name[:2]
    used = _checked_in(lesson)
    registered = {name for name in exercises.available() if name.split(".")[0] == number}
    assert used, f"{lesson.name} checks no exercise"
    assert used <= registered, f"not registered: {sorted(used - registered)}"
    assert registered <= used, (
        f"registered but no exercise in the lesson: {sorted(registered - used)}"
    )
    solution = ROOT / "notebooks" / "solutions" / f"{lesson.stem}_solutions.ipynb"
    assert _checked_in(solution) == used, f"{solution.name} checks other exercises"


def test_exercise_names_are_lesson_dot_name():
    names = exercises.available()
    assert all(len(name.split(".")) == 2 and name[:2].isdigit() for name in names)
    lessons = {name.split(".")[0] for name in names}
    assert lessons == {p.name[:2] for p in LESSONS}


def test_stub_is_reported_as_not_attempted(capsys):
    def stub(x, num_heads):
        raise NotImplementedError

    assert not check("01.head_count", stub)
    assert "not attempted" in capsys.readouterr().out
    assert not check("00.offline_variable", None)


def test_right_and_wrong_answers(capsys):
    assert check("01.head_count", lambda d, h: 4 * d * d + 4 * d)
    assert "correct" in capsys.readouterr().out
    assert not check("01.head_count", lambda d, h: h * 4 * d * d)
    assert "Hint" in capsys.readouterr().out
    assert check("00.offline_variable", "HF_HUB_OFFLINE")
    assert not check("00.offline_variable", "HF_DATASETS_OFFLINE")


def test_code_that_raises_becomes_a_hint(capsys):
    assert not check("01.head_count", lambda d, h: d["width"])
    assert "TypeError" in capsys.readouterr().out

"""The exercise checker: passes right answers, gives hints for wrong ones, never raises."""

from __future__ import annotations

import pytest

from tutorial_utils import exercises
from tutorial_utils.exercises import check


def test_unknown_exercise_lists_known_ones():
    with pytest.raises(ValueError, match="00.pipeline_tasks"):
        check("00.nope", 1)


def test_every_lesson_registers_exercises():
    names = exercises.available()
    lessons = {name.split(".")[0] for name in names}
    assert "00" in lessons
    assert all(len(name.split(".")) == 2 for name in names)


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

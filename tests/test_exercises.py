"""The exercise checker: passes right answers, gives hints for wrong ones, never raises."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tutorial_utils import exercises
from tutorial_utils.exercises import check


def test_unknown_exercise_lists_known_ones():
    with pytest.raises(ValueError, match="00.count_families"):
        check("00.nope", 1)


def test_every_lesson_registers_exercises():
    names = exercises.available()
    lessons = {name.split(".")[0] for name in names}
    assert "00" in lessons
    assert all(len(name.split(".")) == 2 for name in names)


def test_stub_is_reported_as_not_attempted(capsys):
    def stub(rows):
        raise NotImplementedError

    assert not check("00.count_families", stub)
    assert "not attempted" in capsys.readouterr().out
    assert not check("00.offline_variable", None)


def test_right_and_wrong_answers(capsys):
    assert check("00.count_families", lambda rows: dict(Counter(r["family"] for r in rows)))
    assert "correct" in capsys.readouterr().out
    assert not check("00.count_families", lambda rows: {"Audio": 1})
    assert "Hint" in capsys.readouterr().out
    assert check("00.offline_variable", "HF_HUB_OFFLINE")
    assert not check("00.offline_variable", "HF_DATASETS_OFFLINE")


def test_code_that_raises_becomes_a_hint(capsys):
    assert not check("00.count_families", lambda rows: rows["family"])
    assert "TypeError" in capsys.readouterr().out


def test_sentence_vector_check_uses_the_extractor():
    def fake_extractor(text):
        rng = np.random.default_rng(len(text))
        return [rng.normal(size=(len(text.split()) + 2, 8)).tolist()]

    assert check("00.sentence_vector", lambda ex, t: np.asarray(ex(t)[0]).mean(0), fake_extractor)
    assert not check(
        "00.sentence_vector", lambda ex, t: np.asarray(ex(t)[0]).mean(1), fake_extractor
    )

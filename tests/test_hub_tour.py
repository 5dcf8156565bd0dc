"""Lesson 00's tour of the Hub: the write-up's task list against transformers' registry."""

from __future__ import annotations

import pytest

from tutorial_utils import hub_tour


def test_every_writeup_task_is_listed_with_a_pipeline_or_a_reason():
    rows = hub_tour.writeup_tasks()
    assert len(rows) == sum(len(tasks) for tasks in hub_tour.WRITEUP_TASKS.values())
    assert {row["family"] for row in rows} == set(hub_tour.FAMILIES)
    for row in rows:
        if row["pipeline"] == "-":
            assert row["status"] and "pipeline class" not in row["status"], row
        else:
            assert row["status"].startswith("pipeline class"), row
    by_task = {row["Hub task"]: row for row in rows}
    assert by_task["text-classification"]["pipeline"] == "text-classification"
    assert by_task["text-to-speech"]["pipeline"] == "text-to-audio"  # an alias resolves
    assert by_task["conversational"]["pipeline"] == "-"


def test_default_model_of_a_task_and_clear_errors():
    assert "sst-2" in hub_tour.default_model("sentiment-analysis")
    with pytest.raises(ValueError, match="not a pipeline task"):
        hub_tour.default_model("summarisation")

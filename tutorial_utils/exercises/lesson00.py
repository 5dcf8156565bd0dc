"""Checks for lesson 00 (setup and a tour of the Hub)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Hint, exercise, require


@exercise("00.count_families")
def check_count_families(count_families: Callable[[list[dict]], dict[str, int]]) -> None:
    """``count_families(rows)`` -> {family: number of tasks} for rows like task_families()."""
    from ..hub_tour import task_families

    rows = task_families()
    expected: dict[str, int] = {}
    for row in rows:
        expected[row["family"]] = expected.get(row["family"], 0) + 1
    answer = count_families(rows)
    require(isinstance(answer, dict), f"return a dict, not {type(answer).__name__}")
    require(
        set(answer) == set(expected),
        f"the keys should be the families {sorted(expected)}, got {sorted(answer)}",
    )
    wrong = [f for f in expected if answer[f] != expected[f]]
    if wrong:
        raise Hint(f"the count for {wrong[0]!r} is off: count every row whose 'family' is it")
    sample = rows[:3]
    require(
        count_families(sample)
        == {r["family"]: sum(s["family"] == r["family"] for s in sample) for r in sample},
        "compute the counts from the rows you are given, not from a fixed table",
    )


@exercise("00.offline_variable")
def check_offline_variable(name: str) -> None:
    """The environment variable that switches huggingface_hub to offline mode."""
    require(isinstance(name, str), "answer with the variable's name as a string")
    require(
        name.strip() != "HF_DATASETS_OFFLINE",
        "that one is for datasets only; which one does huggingface_hub itself read?",
    )
    require(
        name.strip() == "HF_HUB_OFFLINE",
        "look at the environment report: the variable starts with HF_HUB_",
    )


@exercise("00.sentence_vector")
def check_sentence_vector(sentence_vector: Callable, extractor: Callable) -> None:
    """``sentence_vector(extractor, text)`` -> 1-D numpy mean of the token vectors."""
    for text in ("Hello world", "I love using transformers, it's so easy and powerful!"):
        features = np.asarray(extractor(text)[0], dtype=np.float64)
        answer = np.asarray(sentence_vector(extractor, text), dtype=np.float64)
        require(
            answer.ndim == 1,
            f"return one vector (1-D), got shape {answer.shape}; average over the tokens",
        )
        require(
            answer.shape[0] == features.shape[1],
            f"the vector should have {features.shape[1]} numbers (the hidden size), "
            f"got {answer.shape[0]}: average over the token axis, not the feature axis",
        )
        require(
            np.allclose(answer, features.mean(axis=0), atol=1e-5),
            "the numbers differ from the mean of the token vectors",
        )

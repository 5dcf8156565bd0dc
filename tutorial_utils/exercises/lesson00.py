"""Checks for lesson 00 (setup and a tour of the Hub)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import Hint, exercise, require

#: The needs of "00.pipeline_tasks" and the task each one is answered with in transformers 5.
NEEDS: dict[str, str] = {
    "say whether a movie review is positive or negative": "text-classification",
    "guess the word hidden in 'Paris is the [MASK] of France.'": "fill-mask",
    "continue the story 'Once upon a time'": "text-generation",
    "mark each word of a sentence as a person, a place, an organisation or nothing": (
        "token-classification"
    ),
    "turn a sentence into one vector per token, to compare it with others": "feature-extraction",
    "translate 'Once upon a time' into French": "text-generation",
}

#: Tasks the write-up knew as pipelines and transformers 5 no longer has, with what to use.
_REMOVED = {
    "translation": "text-generation with an instruct model",
    "summarization": "text-generation with an instruct model",
    "text2text-generation": "text-generation",
    "question-answering": "text-generation with an instruct model",
}


def _canonical_task(name: str) -> str | None:
    """The registry's name for ``name`` (aliases resolved), or None when it is no pipeline task."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    name = TASK_ALIASES.get(name, name)
    return name if name in SUPPORTED_TASKS else None


@exercise("00.pipeline_tasks")
def check_pipeline_tasks(answer: dict[str, Any]) -> None:
    """``answer``: {need: the task name to pass to pipeline(...)} for every need in NEEDS."""
    require(
        isinstance(answer, dict),
        f"answer with a dict {{need: task name}}, not {type(answer).__name__}",
    )
    missing = [need for need in NEEDS if need not in answer]
    if missing:
        raise Hint(f"keep every need of the exercise as a key; missing: {missing[0]!r}")
    for need, expected in NEEDS.items():
        given = answer[need]
        require(
            isinstance(given, str) and given.strip(),
            f"{need!r}: answer with a task name as a string (the 'task' column of section 4)",
        )
        name = given.strip()
        if name in _REMOVED:
            raise Hint(
                f"{need!r}: {name!r} was a pipeline in transformers 4 but not in your version - "
                f"the write-up table of section 4 says what to use instead ({_REMOVED[name]})"
            )
        canonical = _canonical_task(name)
        require(
            canonical is not None,
            f"{need!r}: {name!r} is not a task of your transformers; pick one from the 'task' "
            "column of the table in section 4 (or one of its aliases)",
        )
        require(
            canonical == expected,
            f"{need!r}: {name!r} does something else - read the task names of the Natural "
            "Language Processing family again (which one takes text and returns what is asked?)",
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


#: Sentences of "00.token_vector": the word is one word piece in BERT's vocabulary.
TOKEN_CASES = (
    ("I sat on the bank of the river.", "bank"),
    ("Once upon a time there was a river.", "river"),
    ("I love using transformers, it's so easy and powerful!", "easy"),
)


@exercise("00.token_vector")
def check_token_vector(token_vector: Callable, extractor: Any) -> None:
    """``token_vector(extractor, text, word)`` -> the 1-D vector of ``word``'s token in ``text``."""
    require(
        callable(token_vector),
        "pass the function itself: check('00.token_vector', token_vector, extractor)",
    )
    for text, word in TOKEN_CASES:
        features = np.asarray(
            extractor(text)[0], dtype=np.float64
        )  # ([CLS] + pieces + [SEP], hidden)
        pieces = extractor.tokenizer.tokenize(text)
        position = pieces.index(word) + 1  # row 0 is [CLS]
        answer = np.asarray(token_vector(extractor, text, word), dtype=np.float64)
        require(
            answer.ndim == 1,
            f"return one vector (1-D), got shape {answer.shape}: pick one row of the pipeline's output",
        )
        require(
            answer.shape[0] == features.shape[1],
            f"the vector should have {features.shape[1]} numbers (the hidden size), got "
            f"{answer.shape[0]}",
        )
        if np.allclose(answer, features[position - 1], atol=1e-5):
            raise Hint(
                f"for {word!r} in {text!r} you returned the vector of the token before it: the "
                "pipeline's rows start with [CLS], so word piece i of tokenize() is row i + 1"
            )
        if np.allclose(answer, features.mean(axis=0), atol=1e-5):
            raise Hint("that is the mean of all the tokens: return the row of the word's own token")
        require(
            np.allclose(answer, features[position], atol=1e-5),
            f"for {word!r} in {text!r} expected row {position} of extractor(text)[0] (the word's "
            "position in tokenizer.tokenize(text), plus 1 for [CLS])",
        )

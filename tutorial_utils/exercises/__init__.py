"""Exercise checks: ``check("01.softmax_entropy", my_function)`` prints a pass or a hint.

Each lesson has a module ``lessonNN.py`` here whose checks register themselves with
:func:`exercise`. A check receives the learner's answer, raises :class:`Hint` with a
helpful message when it is wrong, and returns normally when it is right.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from .. import messages


class CheckResult:
    """Outcome of :func:`check`: true when the answer passed; shows nothing in a notebook
    (the check already printed its message), so ``assert check(...)`` reads naturally."""

    def __init__(self, name: str, passed: bool, message: str) -> None:
        self.name, self.passed, self.message = name, passed, message

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


class Hint(AssertionError):
    """Raised by a check: the answer is not right yet; the message says what to look at."""


_CHECKS: dict[str, Callable[..., Any]] = {}


def exercise(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a check under ``name`` ("NN.short_name")."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _CHECKS[name] = function
        return function

    return register


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")


def available() -> list[str]:
    """Names of all registered exercises."""
    _load_all()
    return sorted(_CHECKS)


def check(name: str, *answer: Any, **kwargs: Any) -> CheckResult:
    """Check an exercise answer; print a clear pass or a hint; the result is true when it passes.

    A stub that still raises ``NotImplementedError`` (or an answer left as ``...`` / ``None``)
    is reported as "not attempted yet" rather than as an error.
    """
    _load_all()
    if name not in _CHECKS:
        raise ValueError(
            f"Unknown exercise {name!r}. Known exercises: {', '.join(sorted(_CHECKS))}."
        )
    if not answer or any(_unanswered(a) for a in answer):
        return _report(name, False, messages.EXERCISE_EMPTY)
    try:
        _CHECKS[name](*answer, **kwargs)
    except NotImplementedError:
        return _report(name, False, messages.EXERCISE_STUB)
    except Hint as hint:
        return _report(name, False, messages.EXERCISE_HINT, hint=hint)
    except Exception as error:  # noqa: BLE001 - the learner's code raised: show it as a hint
        return _report(
            name, False, messages.EXERCISE_RAISED, error_type=type(error).__name__, error=error
        )
    return _report(name, True, messages.EXERCISE_OK)


def _unanswered(answer: Any) -> bool:
    """None, ``...``, or a dict stub whose values are all still None / ``...``."""
    if answer is None or answer is Ellipsis:
        return True
    return (
        isinstance(answer, dict)
        and bool(answer)
        and all(v is None or v is Ellipsis for v in answer.values())
    )


def _report(name: str, passed: bool, key: str, **fields: Any) -> CheckResult:
    message = messages.say(key, name=name, **fields)
    print(message)
    return CheckResult(name, passed, message)


def require(condition: bool, hint: str) -> None:
    """Raise :class:`Hint` with ``hint`` unless ``condition`` holds (for writing checks)."""
    if not condition:
        raise Hint(hint)

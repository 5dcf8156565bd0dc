"""Progress bars that suit where the output goes: live bars for a person, a few lines for a log.

In a terminal or a notebook, :func:`progress` is a ``tqdm.auto`` bar that redraws itself.
Written to a file or a pipe (CI, ``prepare > log``), a redrawing bar leaves every update
behind (thousands of lines); there :func:`progress` prints one line when it starts and one at
each quarter of the work instead (at most five lines per bar), with the same description,
counts and postfix.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

QUARTERS = 4  # lines a log gets per bar after its first: at 25, 50, 75 and 100 %


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where tqdm draws a widget, never a log)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def interactive(stream: TextIO | None = None) -> bool:
    """Whether a person watches ``stream`` (default stderr): a terminal, or a notebook."""
    if _in_notebook():
        return True
    isatty = getattr(stream if stream is not None else sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class LineProgress:
    """The part of tqdm's interface the course uses, printing a line per quarter, not per update."""

    def __init__(
        self,
        iterable: Iterable[Any] | None,
        total: int | None,
        desc: str,
        unit: str,
        stream: TextIO,
        disable: bool = False,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.stream, self.disable = stream, disable
        self.n, self.postfix, self.started = 0, "", time.perf_counter()
        self._shown = -1  # the last quarter printed (-1: not even the start line)
        self._show()

    def _show(self) -> None:
        quarter = QUARTERS * self.n // self.total if self.total else 0
        if self.disable or quarter <= self._shown:
            return
        self._shown = quarter
        done = f"{self.n}/{self.total}" if self.total else str(self.n)
        share = f" ({100 * self.n // self.total} %)" if self.total else ""
        line = f"{self.desc}: {done} {self.unit}{share}, {time.perf_counter() - self.started:.0f} s"
        print(line + (f", {self.postfix}" if self.postfix else ""), file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        self._show()

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    @staticmethod
    def write(text: str) -> None:
        print(text, flush=True)

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update(1)

    def close(self) -> None:
        pass

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    disable: bool = False,
    stream: TextIO | None = None,
) -> Any:
    """A progress bar over ``iterable`` (or ``total`` updates): tqdm for a person, lines for a log.

    ``stream`` is where it goes (default stderr); :func:`interactive` decides which kind.
    Both kinds support ``update``, ``set_postfix``, ``set_postfix_str``, ``write``,
    iteration and ``with``.
    """
    if interactive(stream):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=stream)
    return LineProgress(iterable, total, desc, unit, stream or sys.stderr, disable)

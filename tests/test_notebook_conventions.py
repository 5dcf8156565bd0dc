"""Conventions every lesson and solution follows, so a learner meets one way of doing each thing."""

from __future__ import annotations

import json
import re

import pytest

from tools.series import lesson_notebooks

NOTEBOOKS = lesson_notebooks(include_solutions=True)


def _code_cells(path) -> list[tuple[dict, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(c, "".join(c["source"])) for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_pyplot_free_and_shown_as_the_last_line(path):
    """One way to show a figure: a matplotlib Figure named as the cell's last line."""
    for _cell, source in _code_cells(path):
        for banned in ("plt.show(", "plt.subplots(", "plt.figure(", "display(fig"):
            assert banned not in source, (
                f"{path.name}: use a Figure shown by its name, not {banned}"
            )
        figures = re.findall(
            r"^(\w+)(?:, \w+)* = (?:tu\.plotting\.plot_\w+|Figure)\(", source, re.M
        )
        last = source.strip().splitlines()[-1].strip() if source.strip() else ""
        for name in figures:
            assert last == name, f"{path.name}: {name} is never shown in: {source[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_fast_mode_comes_from_the_package(path):
    """`tu.fast_mode()` reads TUTORIAL_FAST the one way ("1", "true", ...); no copy in a notebook."""
    sources = [source for _cell, source in _code_cells(path)]
    assert not any("TUTORIAL_FAST" in s for s in sources), f"{path.name} reads TUTORIAL_FAST itself"
    parameters = [
        s for c, s in _code_cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    assert len(parameters) == 1, f"{path.name} needs exactly one cell tagged parameters"
    assert "FAST = tu.fast_mode()" in parameters[0], f"{path.name}: write FAST = tu.fast_mode()"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cell_ids_are_unique(path):
    """Translations are keyed by cell id: every cell has one, and no two cells share it."""
    ids = [c.get("id") for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert all(ids), f"{path.name} has cells without an id"
    assert len(ids) == len(set(ids)), f"{path.name} repeats a cell id"

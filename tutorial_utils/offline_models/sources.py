"""The kinds of offline source a role can have (:mod:`tutorial_utils.roles` declares which).

* :class:`Packaged`: a model folder shipped in a PyPI package, its files verified against
  pinned SHA-256 digests; nothing is built.
* :class:`Built`: a folder built once into the tutorial cache (:mod:`tutorial_utils.cache`):
  ``kind="converted"`` from packaged files (SmolLM2's GGUF), ``kind="recipe"`` trained by a
  recipe of this package. Its ``version`` names the recipe: a cache entry built by another
  version is rebuilt.
* :class:`NoOffline`: no offline model at all; offline, asking for the role is an error that
  names the online model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import get_or_build
from ..integrity import PackagedFile, packaged_file


@dataclass
class Packaged:
    """A model folder inside an installed PyPI package: ``files`` verified, their folder used."""

    label: str  # what the model is, for people: "all-MiniLM-L6-v2 (PyPI package ...)"
    files: tuple[PackagedFile, ...]  # pinned files; the folder is the first one's
    kind: str = "packaged"
    entry = None  # nothing in the cache
    version = None
    action = "verify package"  # what `prepare` does for it

    def folder(self, progress: bool = True) -> Path:
        """The verified folder (raises IntegrityError or MissingPackageError)."""
        paths = [packaged_file(item) for item in self.files]
        return paths[0].parent


@dataclass
class Built:
    """A folder built once into the cache by ``build(folder, progress=...)``, then reused."""

    label: str
    entry: str  # the cache entry's folder name
    version: str  # the recipe version (a change rebuilds the entry)
    build: Callable[..., dict[str, Any]]  # fills a folder, returns the figures to record
    description: str  # "the sentiment model (..., 1-2 minutes)", shown while building
    kind: str = "recipe"  # or "converted"

    @property
    def action(self) -> str:
        return "convert once" if self.kind == "converted" else "train once"

    def folder(self, progress: bool = True) -> Path:
        """The cache entry's folder, built first if it is missing, damaged or out of date."""
        build = functools.partial(self.build, progress=progress)
        return get_or_build(self.entry, build, self.version, self.description)


@dataclass(frozen=True)
class NoOffline:
    """No offline model: ``reason`` says why (measured, where it was)."""

    reason: str
    kind: str = "none"
    entry = None
    version = None
    action = "none offline"

    @property
    def label(self) -> str:
        return f"none offline ({self.reason})"


Source = Packaged | Built | NoOffline

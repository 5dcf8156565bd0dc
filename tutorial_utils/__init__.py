"""Support package of the Transformers course: checkpoints by role, cache, attention, plots, checks.

Import it as ``import tutorial_utils as tu``; a notebook's setup cell calls ``tu.setup()``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cache import cache_dir, clear_cache
from .chinese_data import load_chinese_ner, load_chinese_reviews
from .data import load_reviews
from .env import (
    device,
    environment_report,
    fast_mode,
    quiet,
    seed_everything,
    setup,
)
from .hub_mode import hub_is_reachable, hub_status
from .integrity import IntegrityError, MissingPackageError
from .loading import (
    ROLES,
    checkpoint,
    roles_table,
)
from .messages import set_language
from .pairs import load_pairs
from .paths import output_dir
from .precision import mixed_precision_args

__all__ = [
    "ROLES",
    "IntegrityError",
    "MissingPackageError",
    "cache_dir",
    "checkpoint",
    "clear_cache",
    "device",
    "environment_report",
    "fast_mode",
    "hub_is_reachable",
    "hub_status",
    "load_chinese_ner",
    "load_chinese_reviews",
    "load_pairs",
    "load_reviews",
    "mixed_precision_args",
    "output_dir",
    "quiet",
    "roles_table",
    "seed_everything",
    "set_language",
    "setup",
]

_SUBMODULES = {
    "attention",
    "batching",
    "cache",
    "chinese_data",
    "classifier",
    "data",
    "env",
    "exercises",
    "hub_mode",
    "hub_tour",
    "integrity",
    "loading",
    "messages",
    "lora",
    "metrics",
    "offline_models",
    "pairs",
    "paths",
    "plotting",
    "precision",
    "progress",
    "roles",
    "training",
}


def __getattr__(name: str):
    """Import submodules on first use: ``tu.attention``, ``tu.plotting``, ``tu.exercises``, ..."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show_figures_in_ipython() -> None:
    """In IPython (a notebook), make a pyplot-free ``Figure`` show when a cell ends with it.

    Matplotlib's inline backend registers that display only once pyplot is used; importing
    :mod:`tutorial_utils.plotting` registers it, so a figure built by hand in a lesson shows
    even before the lesson calls ``tu.plotting``.
    """
    import sys

    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from . import plotting  # noqa: F401  (registers the PNG display of Figure)


_show_figures_in_ipython()

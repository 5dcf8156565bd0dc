"""The environment a lesson runs in: device, seeding, quiet logs, the report ``tu.setup()`` prints.

The online/offline decision lives in :mod:`tutorial_utils.hub_mode`, the project's folders in
:mod:`tutorial_utils.paths`.
"""

from __future__ import annotations

import logging
import os
import platform
import random
from pathlib import Path

from .hub_mode import class_setting, env_true, hub_endpoint, hub_status, reason_once

DEVICES = ("cpu", "cuda", "mps")


def device() -> str:
    """The torch device to use: "cuda" or "mps" when present, else "cpu".

    ``TUTORIAL_DEVICE`` (``cpu``, ``cuda`` or ``mps``) overrides the choice, for example
    ``TUTORIAL_DEVICE=cpu`` for identical CPU runs on every machine of a class. A value that
    is not one of these, or a device this torch cannot use, is a ``ValueError`` that says so.
    """
    import torch

    mps = getattr(torch.backends, "mps", None)
    mps_available = mps is not None and mps.is_available()
    wanted = os.environ.get("TUTORIAL_DEVICE", "").strip().lower()
    if wanted:
        if wanted not in DEVICES:
            raise ValueError(
                f"TUTORIAL_DEVICE={os.environ['TUTORIAL_DEVICE']!r} is not a device the course "
                f"knows: use one of {', '.join(DEVICES)}, or unset it to pick the best one present."
            )
        if wanted == "cuda" and not torch.cuda.is_available():
            build = (
                "this torch is a CPU-only build"
                if torch.version.cuda is None
                else f"torch (CUDA {torch.version.cuda}) sees no CUDA GPU"
            )
            raise ValueError(
                f"TUTORIAL_DEVICE=cuda, but {build}. Unset TUTORIAL_DEVICE (or set it to cpu), "
                "or install a CUDA build of torch (README: 'On a GPU machine')."
            )
        if wanted == "mps" and not mps_available:
            raise ValueError(
                "TUTORIAL_DEVICE=mps, but the Apple MPS backend is not available here. "
                "Unset TUTORIAL_DEVICE or set it to cpu."
            )
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if mps_available:
        return "mps"
    return "cpu"


def seed_everything(seed: int = 0) -> int:
    """Seed Python's, NumPy's and torch's random generators (CPU and every GPU); return ``seed``.

    The same code then draws the same random numbers on the same machine with the same library
    versions. Kernels are not made deterministic: a few CUDA kernels may still differ slightly
    from run to run (``torch.use_deterministic_algorithms(True)`` forbids those, at a cost).
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


class _DeprecationsOnly(logging.Filter):
    """Let through only log records that announce a deprecation."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "deprecat" in record.getMessage().lower()


def quiet() -> None:
    """Silence progress bars, load reports and advisory log messages that add nothing to a lesson.

    Deprecations of the calls a lesson makes stay visible: transformers' log messages that
    announce one still print, and Python's ``FutureWarning`` / ``DeprecationWarning`` are not
    filtered, except two raised inside other libraries' own code (torch's ``TypedStorage``
    notice, and peft reading transformers' ``is_gradient_checkpointing``). datasets logs
    errors only.
    """
    import warnings

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", message=".*TypedStorage.*")
    # peft 0.21 reads this deprecated transformers alias itself whenever it wraps a model
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
    import datasets
    import huggingface_hub.utils
    import transformers

    # warnings and up reach transformers' handler, which keeps the deprecations only
    transformers.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    for handler in logging.getLogger("transformers").handlers:
        if not any(isinstance(f, _DeprecationsOnly) for f in handler.filters):
            handler.addFilter(_DeprecationsOnly())
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


def fast_mode() -> bool:
    """True when ``TUTORIAL_FAST=1``: notebooks shrink their sizes (used by tests and CI)."""
    return env_true("TUTORIAL_FAST")


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def environment_report() -> dict[str, str]:
    """Versions, device, hub mode and reason, endpoint, caches: the facts lesson 00 shows."""
    from . import __version__
    from .cache import cache_dir

    reachable, reason = hub_status()
    hf_home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    report = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "tutorial_utils": __version__,
    }
    for package in (
        "torch",
        "transformers",
        "datasets",
        "tokenizers",
        "huggingface_hub",
        "accelerate",
    ):
        report[package] = _version(package)
    try:
        import torch

        report["cpu threads"] = str(torch.get_num_threads())
    except ImportError:
        pass
    report.update(
        {
            "device": device(),
            "hub": "online" if reachable else "offline",
            "hub reason": reason,
            "class setting": f"on ({class_setting()})" if class_setting() else "off",
            "HF_ENDPOINT": hub_endpoint(),
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "(unset)"),
            "hub cache (downloads)": os.environ.get("HF_HUB_CACHE") or str(Path(hf_home) / "hub"),
            "tutorial cache (built models)": str(cache_dir()),
            "fast mode": str(fast_mode()),
        }
    )
    return report


def setup(seed: int = 0, verbose: bool = True) -> dict[str, str]:
    """What a notebook's setup cell calls: seed, quiet the logs, decide online/offline, report.

    Prints one line (versions, device, mode, and the mode's reason unless this process printed
    it already) and returns the full environment report.
    """
    quiet()
    seed_everything(seed)
    report = environment_report()
    if verbose:
        reason = reason_once(report["hub reason"])
        from . import messages

        print(
            messages.say(
                messages.SETUP,
                torch=report["torch"],
                transformers=report["transformers"],
                datasets=report["datasets"],
                device=report["device"],
                hub=messages.mode(report["hub"]),
                reason=f" ({reason})" if reason else "",
                seed=seed,
                fast=messages.say(messages.FAST_MODE) if fast_mode() else "",
            )
        )
    return report

"""Environment: online/offline decision, device, seeding, quiet logs, the environment report."""

from __future__ import annotations

import logging
import os
import platform
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT = 1.5  # seconds for the HTTP request itself
DECISION_BUDGET = 1.8  # seconds after which "no answer" means offline (TUTORIAL_HUB_TIMEOUT)
_TRUE = {"1", "true", "yes", "on"}

_decision: tuple[bool, str] | None = None
# Reasons for the hub decision already printed in this process: the reason (an unreachable
# Hub with its URLError, HF_HUB_OFFLINE=1, ...) is printed once per session, by whichever of
# the setup line or a checkpoint / dataset line prints first.
REASONS_SHOWN: set[str] = set()


def reason_once(reason: str) -> str | None:
    """``reason`` the first time it is asked for in this process, ``None`` every later time."""
    if reason in REASONS_SHOWN:
        return None
    REASONS_SHOWN.add(reason)
    return reason


def mode_note(online: bool, reason: str) -> str:
    """`` (offline: <reason>)`` the first time a reason is shown in this process, else ``""``."""
    shown = reason_once(reason)
    return f" ({'online' if online else 'offline'}: {shown})" if shown else ""


def hub_endpoint() -> str:
    """The Hub address in use: ``HF_ENDPOINT`` (a mirror) or huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


CLASS_SETTING_FILE = "classroom.toml"  # in the project folder; `offline = true` turns it on
_CLASS_ON = re.compile(r"^\s*offline\s*=\s*true\s*(#.*)?$", re.MULTILINE)


def class_setting() -> str | None:
    """Where the class setting comes from when it is on (``None`` when off).

    The class setting gives everyone in a room the same offline models, whatever the network:
    ``TUTORIAL_OFFLINE=1``, or a file ``classroom.toml`` in the project folder with the line
    ``offline = true`` (``python dev.py setup --from PACK`` copies the pack's one there).
    ``TUTORIAL_OFFLINE=0`` turns it off for one session even where the file says true.
    """
    value = os.environ.get("TUTORIAL_OFFLINE", "").strip().lower()
    if value in _TRUE:
        return "TUTORIAL_OFFLINE=1"
    if value in {"0", "false", "no", "off"}:
        return None
    path = project_root() / CLASS_SETTING_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return f"{CLASS_SETTING_FILE} says offline = true" if _CLASS_ON.search(text) else None


def _probe(url: str, result: dict, timeout: float = PROBE_TIMEOUT) -> None:
    """GET a small Hub API answer; only a JSON description of the model counts as "the Hub"."""
    import json

    try:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(200_000)
            result["status"] = response.status
        payload = json.loads(body)
        result["hub"] = isinstance(payload, dict) and ("id" in payload or "modelId" in payload)
    except urllib.error.HTTPError as error:  # something answered, but not with the model
        result["status"] = error.code
        result["hub"] = False
    except ValueError:  # an answer that is not JSON: a captive portal or a proxy page
        result["hub"] = False
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        result["error"] = f"{type(error).__name__}: {error}"


def set_offline_mode() -> None:
    """Switch huggingface_hub, transformers and datasets to offline mode for this process.

    Sets the environment variables for libraries not yet imported and patches the flags of
    those already imported, so no later call waits on network retries.
    """
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[name] = "1"
    if "huggingface_hub" in sys.modules:
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = True
    if "datasets" in sys.modules:
        import datasets.config as datasets_config

        datasets_config.HF_HUB_OFFLINE = True
        datasets_config.HF_DATASETS_OFFLINE = True


def hub_timeout() -> float:
    """Seconds the Hub probe waits: ``TUTORIAL_HUB_TIMEOUT`` if set (a slow mirror needs
    more), else :data:`DECISION_BUDGET`."""
    value = os.environ.get("TUTORIAL_HUB_TIMEOUT", "").strip()
    if not value:
        return DECISION_BUDGET
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 120:
        raise ValueError(
            f"TUTORIAL_HUB_TIMEOUT={value!r}: give the seconds the Hub probe may wait, a number "
            f"from 0 to 120 (for example 10 for a slow mirror), or unset it for {DECISION_BUDGET} s."
        )
    return seconds


def hub_status(refresh: bool = False) -> tuple[bool, str]:
    """``(reachable, reason)``: whether the Hub or the ``HF_ENDPOINT`` mirror answers, and why.

    Decided once per process (``refresh=True`` asks again) and within about two seconds
    even with no network at all (``TUTORIAL_HUB_TIMEOUT`` seconds if set, see
    :func:`hub_timeout`). The class setting (``TUTORIAL_OFFLINE=1`` or a
    ``classroom.toml``, see :func:`class_setting`: everyone gets the same offline models) or
    ``HF_HUB_OFFLINE=1`` means offline without asking.
    When the answer is "offline", :func:`set_offline_mode` is applied.
    """
    global _decision
    if _decision is not None and not refresh:
        return _decision
    class_source = class_setting()
    if class_source:
        _decision = (
            False,
            f"class setting on ({class_source}): the same offline models for everyone",
        )
    elif _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE"):
        _decision = (False, "HF_HUB_OFFLINE=1 is set")
    else:
        endpoint, budget = hub_endpoint(), hub_timeout()
        result: dict = {}
        started = time.monotonic()
        worker = threading.Thread(
            target=_probe,
            args=(
                f"{endpoint}/api/models/bert-base-uncased",
                result,
                max(budget - 0.3, 0.1),
            ),  # the request ends before the wait
            daemon=True,
        )
        worker.start()
        worker.join(budget)
        elapsed = time.monotonic() - started
        status = result.get("status")
        if result.get("hub"):
            _decision = (True, f"{endpoint} answered in {elapsed:.1f} s")
        elif status is not None or "hub" in result:
            _decision = (False, f"{endpoint} answered (HTTP {status}) but not as a Hub API")
        elif "error" in result:
            _decision = (False, f"{endpoint} is unreachable ({result['error'][:80]})")
        else:
            _decision = (False, f"{endpoint} did not answer within {budget:g} s")
    if not _decision[0]:
        set_offline_mode()
    return _decision


def hub_is_reachable() -> bool:
    """True when the Hugging Face Hub (or the ``HF_ENDPOINT`` mirror) answers.

    Decided once per process, in at most ~2 seconds; respects ``HF_HUB_OFFLINE=1``; after an
    "offline" decision the libraries' offline switches are set so no call waits on retries.
    """
    return hub_status()[0]


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
    return _env_true("TUTORIAL_FAST")


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

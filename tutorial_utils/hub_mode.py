"""Online or offline: whether the Hub answers, the class setting, and each reason shown once.

Every lesson asks :func:`hub_status` (through ``tu.setup()``, ``tu.checkpoint`` or the data
loaders); it is decided once per process, in about two seconds even with no network.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request

from . import paths

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


def env_true(name: str) -> bool:
    """True when the environment variable ``name`` is 1, true, yes or on (any case)."""
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
    path = paths.project_root() / CLASS_SETTING_FILE
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
    elif env_true("HF_HUB_OFFLINE") or env_true("TRANSFORMERS_OFFLINE"):
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

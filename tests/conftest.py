"""Shared test set-up: offline by default, quiet, a headless matplotlib, deprecations fail."""

from __future__ import annotations

import logging
import os

import matplotlib
import pytest

# The Hub is not reachable in CI: without these each hub call retries for 25-50 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
matplotlib.use("Agg")  # this process only: notebook kernels keep the inline backend


# --- deprecations fail the test that triggers them ------------------------------------------
# Python's FutureWarning / DeprecationWarning are errors (pyproject.toml, filterwarnings);
# transformers announces some deprecations through its logger instead, caught here.
class _DeprecationRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "deprecat" in record.getMessage().lower():
            self.messages.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A tutorial cache of the test's own (``TUTORIAL_CACHE``), forgotten afterwards."""
    from tutorial_utils import cache

    monkeypatch.setenv("TUTORIAL_CACHE", str(tmp_path / "cache"))
    cache._checked.clear()
    yield tmp_path / "cache"
    cache._checked.clear()


@pytest.fixture(autouse=True)
def fail_on_logged_deprecations():
    records = _DeprecationRecords()
    library = logging.getLogger("transformers")
    library.addHandler(records)
    yield
    library.removeHandler(records)
    assert not records.messages, "deprecated API used: " + "; ".join(records.messages)


# --- a real headless browser for tests that open pages ----------------------------------------
# Playwright drives an installed Chromium or Chrome (tools/browser.py finds it; `python dev.py
# setup` installs one where it can). The flags keep it from calling home on a closed network.
def chromium_executable() -> str | None:
    """Path of the Chromium or Chrome the tests use (``CHROMIUM_PATH`` overrides), or None."""
    from tools.browser import find_browser

    found = find_browser()
    return found.path if found else None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright; fails (never skips) when Chromium is missing."""
    from tools.browser import LAUNCH_ARGS, doctor_line

    executable = chromium_executable()
    assert executable, f"Chromium not found: {doctor_line()} (or set CHROMIUM_PATH)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()

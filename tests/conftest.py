"""Shared test set-up: offline by default, quiet, a headless matplotlib."""

from __future__ import annotations

import os

import pytest

# The Hub is not reachable in CI: without these each hub call retries for 25-50 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")


# --- a real headless browser for tests that open pages ----------------------------------------
# Playwright cannot download its own browser here: it drives Debian's Chromium (`apt-get install
# chromium`, done by .ci/run). The flags keep Chromium from calling home on a closed network.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """Path of the system Chromium (``CHROMIUM_PATH`` overrides), or None when none is installed."""
    from pathlib import Path

    override = os.environ.get("CHROMIUM_PATH")
    for candidate in ([override] if override else []) + list(CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright; fails (never skips) when Chromium is missing."""
    executable = chromium_executable()
    assert executable, "Chromium not found: `apt-get install chromium` (or set CHROMIUM_PATH)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()

"""Shared test set-up: offline by default, quiet, a headless matplotlib, deprecations fail."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

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


# --- slow shared work starts at once, in background threads ----------------------------------
# The classroom pack (pip and tar, one core at a time) and the notebook runs are most of the
# test time. Started by their first test, they would run after the other tests, which use one
# core and leave the other idle. A test module with such work defines
# `start_background(lane, items)`; conftest calls it once the tests are collected, and the
# tests that wait for that work run last. Each piece of work gets its own thread at once (the
# notebook runs lower their own priority, so they take what the rest leaves). While the lane
# works, this process's PyTorch (and the processes it starts) keep to half the cores.
# Their tests run in this order; pip's dry runs for other systems wait on the network, so
# their module starts them beside the lane, not in it.
WAITING_FIXTURES = ("other_system_reports", "classroom", "notebook_run")


class Lane:
    """Background threads that do the session's slow shared work, each piece on its own."""

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(len(WAITING_FIXTURES), thread_name_prefix="course-lane")
        self.stopping = threading.Event()  # set when the session ends: start nothing new
        self._submitted: list[Future] = []

    def submit(self, work, *args) -> Future:
        future = self._threads.submit(work, *args)
        self._submitted.append(future)
        return future

    def busy(self) -> bool:
        """Whether some of the work is still running (a test session that stops early)."""
        return any(f.running() for f in self._submitted)

    def close(self) -> None:
        """Start nothing new, and wait for what is running to end."""
        self.stopping.set()
        self._threads.shutdown(wait=True, cancel_futures=True)


LANE = pytest.StashKey[Lane]()


def _waits_for(item: pytest.Item) -> int:
    """0 for a test that waits for no background work, else 1 + its work's place in the lane."""
    names = getattr(item, "fixturenames", ())
    return next((i + 1 for i, name in enumerate(WAITING_FIXTURES) if name in names), 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_waits_for)  # stable: the rest keep their order


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return  # nothing runs: start no work
    modules = []
    for item in sorted(session.items, key=_waits_for):
        module = getattr(item, "module", None)
        if _waits_for(item) and module not in modules:
            modules.append(module)
    if not modules:
        return
    if any(_waits_for(item) > 1 for item in session.items):  # work for the lane, below
        import torch

        from tools.notebook_pool import threads_per_kernel

        half = threads_per_kernel(2)
        torch.set_num_threads(half)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # and the processes started later
            os.environ.setdefault(name, str(half))
    lane = Lane()
    session.config.stash[LANE] = lane
    for module in modules:
        module.start_background(lane, session.items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    lane = session.config.stash.get(LANE, None)
    if lane is None:
        return
    if lane.busy():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "waiting for the background work that is running (the classroom pack or a "
                "notebook) to end; Ctrl+C stops it"
            )
    lane.close()

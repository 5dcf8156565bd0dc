"""Shared test set-up: offline by default, quiet, a headless matplotlib."""

from __future__ import annotations

import os

# The Hub is not reachable in CI: without these each hub call retries for 25-50 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

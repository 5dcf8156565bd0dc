"""Moving the course cache between machines (the classroom pack): one tar file of entries.

:func:`export_cache` verifies every entry against its manifest before packing it;
:func:`import_cache` unpacks into a staging folder, verifies everything there, and only then
moves the entries into the cache (tutorial_utils/cache.py), each under its lock.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path

from .cache import (
    IMPORT_KEY,
    MANIFEST,
    _checked,
    _holding,
    _is_entry,
    _remove_leftovers,
    cache_dir,
    complete_entries,
    entry_problem,
)


class CacheArchiveError(RuntimeError):
    """A cache archive is damaged, or holds an entry that is incomplete or corrupted."""


def export_cache(
    archive: Path, entries: list[str] | None = None, log: Callable[[str], None] = print
) -> list[str]:
    """Write cache entries (default: every complete one) into one uncompressed tar file.

    Each entry is verified against its ``MANIFEST.json`` first (every SHA-256): a damaged
    entry is an error, never packed. Models barely compress, so the tar is not compressed.
    """
    root = cache_dir()
    names = list(entries) if entries else complete_entries()
    for name in names:
        problem = entry_problem(root / name, None) if (root / name).is_dir() else "missing"
        if problem:
            raise CacheArchiveError(
                f"Cache entry {name!r} in {root} is {problem}: run "
                f"`python -m tutorial_utils prepare` (or clear it: "
                f"`python -m tutorial_utils cache --clear {name}`) before packing."
            )
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        for name in names:
            log(f"  packing cache entry {name}")
            tar.add(root / name, arcname=name)
    os.replace(partial, archive)
    return names


def _safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        parts = Path(member.name).parts
        if (
            not (member.isfile() or member.isdir())
            or member.name.startswith(("/", "\\"))
            or ".." in parts
            or (parts and ":" in parts[0])
        ):
            raise CacheArchiveError(f"{archive} holds an unexpected member {member.name!r}.")
    return members


def _top(member: tarfile.TarInfo) -> str:
    """The entry a member belongs to: the first part of its name."""
    parts = Path(member.name).parts
    return parts[0] if parts else ""


def _holds_intact(entry: Path, manifest: bytes) -> bool:
    """Whether ``entry`` is a cache entry with exactly this ``MANIFEST.json``, intact (sizes)."""
    installed = entry / MANIFEST
    if not (_is_entry(entry) and installed.is_file() and installed.read_bytes() == manifest):
        return False
    return entry_problem(entry, None, deep=False) is None


def _same_as_installed(tar: tarfile.TarFile, name: str, root: Path) -> bool:
    """Whether the cache already holds entry ``name`` intact, with the archive's manifest."""
    try:
        packed = tar.extractfile(f"{name}/{MANIFEST}")
    except KeyError:  # the archive's entry has no manifest: unpacking it reports that
        return False
    return packed is not None and _holds_intact(root / name, packed.read())


def _unpack_and_verify(
    archive: Path, staging: Path, root: Path, log: Callable[[str], None]
) -> tuple[list[str], list[str]]:
    """Unpack into ``staging`` the entries of ``archive`` that ``root`` does not hold already.

    Returns the names of the entries unpacked (each verified) and of those kept as they are.
    """
    try:
        with tarfile.open(archive, "r") as tar:
            members = _safe_members(tar, archive)
            tops = sorted({_top(m) for m in members} - {"", IMPORT_KEY})
            # an entry the cache holds with the same manifest is not written out a second time
            kept = [n for n in tops if _same_as_installed(tar, n, root)]
            members = [m for m in members if _top(m) not in kept]
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # Python < 3.10.12: the members were checked above
                tar.extractall(staging, members=members)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CacheArchiveError(
            f"{archive} is damaged ({error}): copy it again or make the pack again."
        ) from error
    # hidden folders (temporary ones) are never entries, and export_cache does not pack
    # them; nor is "import" (the lock held here), which get_or_build refuses as a name
    names = sorted(p.name for p in staging.iterdir() if _is_entry(p) and p.name != IMPORT_KEY)
    if not names and not kept:
        log(f"  {archive} holds no cache entry: `prepare` will build what is missing.")
    for name in kept:
        log(f"  kept {name}: the cache holds it already, with the same {MANIFEST}")
    for name in names:
        problem = entry_problem(staging / name, None)
        if problem:
            raise CacheArchiveError(
                f"Cache entry {name!r} in {archive} is {problem}: copy the pack again."
            )
        log(f"  verified {name} against its {MANIFEST}")
    return names, kept


def _move_into_place(verified: Path, final: Path) -> None:
    """Replace ``final`` by a verified entry, unless it already holds the same one intact."""
    if final.exists():
        if _holds_intact(final, (verified / MANIFEST).read_bytes()):
            return
        shutil.rmtree(final)
    os.replace(verified, final)


def import_cache(archive: Path, log: Callable[[str], None] = print) -> list[str]:
    """Unpack a cache archive made by :func:`export_cache` and verify it before using it.

    Every entry is checked against its ``MANIFEST.json`` (sizes and SHA-256) in a staging
    folder; only when all are intact are they moved into the cache, replacing entries of the
    same name. An entry the cache already holds intact (sizes checked) with the same manifest
    is kept as it is and not unpacked, so importing a pack a second time writes nothing. Each
    entry is moved in while holding its lock, so a build of the same entry in another process
    is waited for. Returns the names of the entries unpacked and kept.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise CacheArchiveError(f"No cache archive at {archive}.")
    root = cache_dir()
    waiting = "Waiting for another process that is importing a cache archive here."
    with _holding(root, IMPORT_KEY, waiting, log):
        _remove_leftovers(root, IMPORT_KEY, log)
        staging = root / f".tmp-{IMPORT_KEY}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            names, kept = _unpack_and_verify(archive, staging, root, log)
            for name in names:
                waiting = f"Waiting for another process that is building {name} into the cache."
                with _holding(root, name, waiting, log):
                    _move_into_place(staging / name, root / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _checked.clear()
    return sorted(names + kept)

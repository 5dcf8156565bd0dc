"""The one folder where tutorial_utils keeps what it builds (offline models, converted files).

Default: ``~/.cache/transformers-course`` (``%LOCALAPPDATA%\\transformers-course`` on
Windows). Move it with the environment variable ``TUTORIAL_CACHE``.

Every entry is a folder built under a temporary name and renamed into place when complete.
Its last file, ``MANIFEST.json``, records the size and SHA-256 of every other file and the
recipe version. An entry without a manifest (half-written), with a file whose digest
differs (corrupted), or built by an older recipe is reported and rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from .integrity import sha256_of

MANIFEST = "MANIFEST.json"
CACHE_ENV = "TUTORIAL_CACHE"


def cache_dir() -> Path:
    """Root of the tutorial cache (created if missing)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        root = Path(override).expanduser()
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        root = Path(os.environ["LOCALAPPDATA"]) / "transformers-course"
    else:
        root = Path.home() / ".cache" / "transformers-course"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: Path, version: str, info: dict | None = None) -> dict:
    """Record size and digest of every file in ``folder``; written last, it marks completion."""
    manifest = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "info": info or {},
        "files": {
            p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": sha256_of(p)}
            for p in _files(folder)
        },
    }
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, folder / MANIFEST)
    return manifest


def entry_problem(folder: Path, version: str | None, deep: bool = True) -> str | None:
    """Why a cache entry cannot be used, or ``None`` when it is complete and intact.

    ``version=None`` checks the files against the manifest whatever recipe built them.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "incomplete (no MANIFEST.json: the build was interrupted)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        return "corrupted (MANIFEST.json is unreadable)"
    if version is not None and manifest.get("version") != version:
        return f"out of date (built by recipe {manifest.get('version')!r}, current is {version!r})"
    for rel, meta in files.items():
        path = folder / rel
        if not path.is_file():
            return f"incomplete ({rel} is missing)"
        if path.stat().st_size != meta["size"]:
            return f"corrupted ({rel} has the wrong size)"
        if deep and sha256_of(path) != meta["sha256"]:
            return f"corrupted ({rel} does not match its recorded SHA-256)"
    return None


def read_manifest(folder: Path) -> dict:
    """The manifest of a complete entry (its ``info`` holds figures measured at build time)."""
    return json.loads((folder / MANIFEST).read_text())


_checked: set[str] = set()


def get_or_build(
    name: str,
    build: Callable[[Path], dict | None],
    version: str,
    description: str = "",
    log: Callable[[str], None] = print,
) -> Path:
    """Return the folder of cache entry ``name``, building it with ``build(tmp_folder)`` if needed.

    ``build`` fills the folder it is given and may return a dict of figures (accuracy, build
    time) stored in the manifest. The folder appears under its final name only when complete.
    """
    root = cache_dir()
    final = root / name
    key = f"{final}:{version}"
    if final.exists():
        if key in _checked:
            return final
        problem = entry_problem(final, version)
        if problem is None:
            _checked.add(key)
            return final
        log(f"Cache entry {final} is {problem}; rebuilding it.")
        shutil.rmtree(final, ignore_errors=True)
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    log(f"Building {description or name} into the cache ({final}); this happens once.")
    try:
        info = build(tmp)
        write_manifest(tmp, version, info if isinstance(info, dict) else None)
        try:
            os.replace(tmp, final)
        except OSError:
            # another process finished the same entry first: keep theirs if it is intact
            if entry_problem(final, version) is not None:
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _checked.add(key)
    return final


def clear_cache(name: str | None = None) -> list[Path]:
    """Delete one entry (or every entry) of the tutorial cache; returns what was removed."""
    root = cache_dir()
    targets = [root / name] if name else [p for p in root.iterdir()]
    removed = []
    for target in targets:
        if target.is_dir():
            shutil.rmtree(target)
            removed.append(target)
        elif target.exists():
            target.unlink()
            removed.append(target)
    _checked.clear()
    return removed


def cache_summary() -> list[dict]:
    """One row per cache entry: name, size in MB, state."""
    rows = []
    for folder in sorted(cache_dir().iterdir()):
        if not folder.is_dir():
            continue
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        state = "complete" if (folder / MANIFEST).is_file() else "incomplete"
        rows.append({"entry": folder.name, "size_mb": round(size / 2**20, 1), "state": state})
    return rows


# --- moving the cache between machines (the classroom pack) -----------------------------------


class CacheArchiveError(RuntimeError):
    """A cache archive is damaged, or holds an entry that is incomplete or corrupted."""


def complete_entries() -> list[str]:
    """Names of the cache entries that have a manifest (built to the end)."""
    return [
        p.name for p in sorted(cache_dir().iterdir()) if p.is_dir() and (p / MANIFEST).is_file()
    ]


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


def import_cache(archive: Path, log: Callable[[str], None] = print) -> list[str]:
    """Unpack a cache archive made by :func:`export_cache` and verify it before using it.

    Every entry is checked against its ``MANIFEST.json`` (sizes and SHA-256) in a staging
    folder; only when all are intact are they moved into the cache, replacing entries of the
    same name. An entry already present with the same manifest is kept as it is.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise CacheArchiveError(f"No cache archive at {archive}.")
    root = cache_dir()
    staging = root / f".tmp-import-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        try:
            with tarfile.open(archive, "r") as tar:
                members = _safe_members(tar, archive)
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(staging, members=members, filter="data")
                else:  # Python < 3.10.12: the members were checked above
                    tar.extractall(staging, members=members)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise CacheArchiveError(
                f"{archive} is damaged ({error}): copy it again or make the pack again."
            ) from error
        names = sorted(p.name for p in staging.iterdir() if p.is_dir())
        if not names:
            log(f"  {archive} holds no cache entry: `prepare` will build what is missing.")
        for name in names:
            problem = entry_problem(staging / name, None)
            if problem:
                raise CacheArchiveError(
                    f"Cache entry {name!r} in {archive} is {problem}: copy the pack again."
                )
            log(f"  verified {name} against its {MANIFEST}")
        for name in names:
            final = root / name
            if final.exists():
                same = (final / MANIFEST).is_file() and (final / MANIFEST).read_bytes() == (
                    staging / name / MANIFEST
                ).read_bytes()
                if same and entry_problem(final, None, deep=False) is None:
                    continue
                shutil.rmtree(final)
            os.replace(staging / name, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _checked.clear()
    return names

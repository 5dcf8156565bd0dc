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


def entry_problem(folder: Path, version: str, deep: bool = True) -> str | None:
    """Why a cache entry cannot be used, or ``None`` when it is complete and intact."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "incomplete (no MANIFEST.json: the build was interrupted)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        return "corrupted (MANIFEST.json is unreadable)"
    if manifest.get("version") != version:
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

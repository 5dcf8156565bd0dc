"""The one folder where tutorial_utils keeps what it builds (offline models, converted files).

Default: ``~/.cache/transformers-course`` (``%LOCALAPPDATA%\\transformers-course`` on
Windows). Move it with the environment variable ``TUTORIAL_CACHE``.

Every entry is a folder built under a temporary name (``.tmp-<name>-<8 hex digits>``) and
renamed into place when complete. Its last file, ``MANIFEST.json``, records the size and
SHA-256 of every other file and the recipe version. An entry without a manifest
(half-written), with a file whose digest differs (corrupted), or built by an older recipe is
reported and rebuilt.

Two processes may ask for the same entry at once (two notebooks open on one laptop): each
entry has a lock file, ``.lock-<name>`` in the cache root, held while the entry is checked
and built. The second process says it is waiting, then finds the entry complete and uses it;
the entry is built once. The operating system releases the lock when its holder dies, so a
kernel killed in the middle of a build never blocks the next one. Its temporary folder does
stay behind: the next build of that entry, and :func:`clear_cache`, remove it, and
:func:`cache_summary` lists it until then. A temporary folder whose lock is held belongs to
a live build and is never removed. Lock files are small and empty; they stay in the cache
root (removing one while a process waits on it would let two processes build at once).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .integrity import sha256_of

MANIFEST = "MANIFEST.json"
CACHE_ENV = "TUTORIAL_CACHE"
LOCK_PREFIX = ".lock-"
# A temporary folder is ".tmp-<key>-<8 hex digits>": <key> is the entry it will become, or
# "import" for the staging folder of import_cache. The key is everything before the last
# "-<8 hex>", so ".tmp-a-b-1234abcd" belongs to "a-b", never to "a".
_TEMPORARY = re.compile(r"\.tmp-(?P<key>.+)-[0-9a-f]{8}")
IMPORT_KEY = "import"
MISSING = "missing (`python -m tutorial_utils prepare` builds it)"


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
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
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
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
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
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


_checked: set[str] = set()


def _temporary_key(path: Path) -> str | None:
    """The entry a temporary folder was being built for, or ``None`` for anything else."""
    match = _TEMPORARY.fullmatch(path.name)
    return match["key"] if match and path.is_dir() else None


def _is_entry(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


def _temporary_folders(root: Path, key: str) -> list[Path]:
    return sorted(p for p in root.iterdir() if _temporary_key(p) == key)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _lock(root: Path, key: str) -> FileLock:
    return FileLock(root / f"{LOCK_PREFIX}{key}")


@contextmanager
def _holding(root: Path, key: str, waiting: str, log: Callable[[str], None]) -> Iterator[bool]:
    """Hold the lock of ``key``, saying ``waiting`` first when another process holds it.

    Yields ``False`` where the lock file cannot be created (a read-only cache shared by a
    lab): complete entries can still be read there, nothing is removed or built.
    """
    lock: FileLock | None = _lock(root, key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(waiting)
        lock.acquire()
    except OSError:
        lock = None
    if lock is None:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _try_lock(root: Path, key: str) -> FileLock | None:
    """The lock of ``key``, acquired, or ``None`` when a live process holds it."""
    lock = _lock(root, key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def _in_use(root: Path, key: str) -> bool:
    """Whether a live process holds the lock of ``key`` (it is building or importing)."""
    if not (root / f"{LOCK_PREFIX}{key}").exists():
        return False  # every holder creates the lock file first
    try:
        lock = _try_lock(root, key)
    except OSError:
        return False  # a read-only cache: nobody can be writing there
    if lock is None:
        return True
    lock.release()
    return False


def _remove_leftovers(root: Path, key: str, log: Callable[[str], None]) -> list[Path]:
    """Delete the temporary folders of ``key``; the caller holds its lock, so they are dead."""
    removed, freed = [], 0
    for folder in _temporary_folders(root, key):
        size = _size(folder)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
            freed += size
    if removed:
        log(
            f"Removed what an interrupted build left in the cache: "
            f"{', '.join(p.name for p in removed)} ({_mb(freed)} freed)."
        )
    return removed


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
    Another process building the same entry is waited for (one line says so), and its entry
    is then used. Leftover temporary folders of this entry (from a killed build) are removed.
    """
    # a hidden name would not count as an entry; "import" is the lock of import_cache
    if not name or name.startswith(".") or "/" in name or "\\" in name or name == IMPORT_KEY:
        raise ValueError(f"Invalid cache entry name {name!r}.")
    root = cache_dir()
    final = root / name
    key = f"{final}:{version}"
    if key in _checked and final.exists():
        return final  # verified once by this process: no lock, no digests
    waiting = (
        f"Waiting for another process (another notebook or terminal) that is building "
        f"{description or name} into the cache; this one will use it when it is ready."
    )
    with _holding(root, name, waiting, log) as locked:
        if locked:
            _remove_leftovers(root, name, log)
        if final.exists():
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
                # Only where file locks do not work (some network drives) can another process
                # have finished the same entry first: keep theirs if it is intact.
                if entry_problem(final, version) is not None:
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _checked.add(key)
    return final


def clear_cache(name: str | None = None, log: Callable[[str], None] = print) -> list[Path]:
    """Delete one entry (or every entry) of the tutorial cache; returns what was removed.

    Leftover temporary folders of interrupted builds go too. What a live process is building
    right now (its lock is held) is skipped, with a line saying so. Lock files stay.
    """
    root = cache_dir()
    items = list(root.iterdir())
    if name:
        keys = [name]
    else:
        leftovers = {key for key in map(_temporary_key, items) if key is not None}
        keys = sorted({p.name for p in items if _is_entry(p)} | leftovers)
    removed = []
    for key in keys:
        if not ((root / key).exists() or _temporary_folders(root, key)):
            continue  # nothing to clear: no lock file is created for a mistyped name
        lock = _try_lock(root, key)
        if lock is None:
            log(
                f"Skipped {key}: another process is writing it right now (a build or an "
                "import); clear it again once that is done."
            )
            continue
        try:
            # listed under the lock: a build that ended meanwhile has renamed its folder
            targets = [p for p in [root / key] if p.exists()] + _temporary_folders(root, key)
            for target in targets:
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink()
                removed.append(target)
        finally:
            lock.release()
    if not name:
        # anything else that is not a lock file (a stray file, an unknown hidden folder)
        for item in items:
            if item.exists() and not item.name.startswith(LOCK_PREFIX):
                if item.is_dir() and _temporary_key(item) is None and not _is_entry(item):
                    shutil.rmtree(item)
                    removed.append(item)
                elif item.is_file():
                    item.unlink()
                    removed.append(item)
    _checked.clear()
    return removed


def cache_summary(versions: Mapping[str, str] | None = None) -> list[dict]:
    """One row per cache entry and per leftover temporary folder: name, size in MB, state.

    ``versions`` maps entry names to their current recipe version: an entry built by another
    recipe is then "out of date", and one not in the cache at all gets a row saying it is
    missing. Sizes are checked against the manifest, digests are not (that is
    :func:`entry_problem` with ``deep=True``, done before an entry is used).
    """
    versions = versions or {}
    root = cache_dir()
    rows = [
        {"entry": name, "size_mb": 0.0, "state": MISSING}
        for name in versions
        if not (root / name).is_dir()
    ]
    for folder in sorted(root.iterdir()):
        key = _temporary_key(folder)
        if key is not None:
            if _in_use(root, key):
                state = "being written by another process (a build or an import)"
            else:
                state = "leftover of an interrupted build (`cache --clear` removes it)"
        elif _is_entry(folder):
            state = entry_problem(folder, versions.get(folder.name), deep=False) or "complete"
        else:
            continue
        rows.append(
            {"entry": folder.name, "size_mb": round(_size(folder) / 2**20, 1), "state": state}
        )
    return sorted(rows, key=lambda row: row["entry"])


def complete_entries() -> list[str]:
    """Names of the cache entries that have a manifest (built to the end).

    Temporary folders and lock files are not entries, even where a killed build had written
    its manifest already.
    """
    return [
        p.name for p in sorted(cache_dir().iterdir()) if _is_entry(p) and (p / MANIFEST).is_file()
    ]

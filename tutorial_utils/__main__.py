"""Command line: ``python -m tutorial_utils doctor | prepare | cache``.

What ``prepare`` builds, what ``cache`` and ``doctor`` check and what ``cache --export`` packs
all come from the one registry of roles, :mod:`tutorial_utils.roles`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _print_cache_rows() -> None:
    from .cache import cache_summary
    from .roles import recipe_versions

    for row in cache_summary(recipe_versions()):
        print(f"  {row['entry']:<32} {row['size_mb']:>8.1f} MB  {row['state']}")


def _packaged_files() -> list:
    """Every pinned packaged file: integrity's list, plus any a packaged source adds."""
    from .integrity import PINNED_FILES
    from .roles import packaged_sources

    files = list(PINNED_FILES)
    for source in packaged_sources():
        files += [item for item in source.files if item not in files]
    return files


def _role_states() -> list[tuple[str, str, str]]:
    """``(role, offline source, state)`` for every role, without building anything."""
    from .cache import cache_dir, entry_problem
    from .roles import ROLES

    rows = []
    for role in ROLES.values():
        source = role.offline
        if source.entry is None:
            state = "none offline" if source.kind == "none" else "packaged (checked above)"
        else:
            folder = cache_dir() / source.entry
            problem = entry_problem(folder, source.version, deep=False) if folder.is_dir() else None
            state = "missing: `prepare` builds it" if not folder.is_dir() else problem or "built"
        rows.append((role.name, source.kind, state))
    return rows


def _doctor(_: argparse.Namespace) -> int:
    from .env import environment_report, quiet
    from .integrity import IntegrityError, MissingPackageError, packaged_file

    try:
        quiet()
    except ImportError:  # a broken install: the report below says which package is missing
        pass
    report = environment_report()
    width = max(len(k) for k in report)
    print("Environment")
    for key, value in report.items():
        print(f"  {key:<{width}}  {value}")
    print("Packaged offline assets (SHA-256 checked)")
    problems = 0
    for item in _packaged_files():
        try:
            path = packaged_file(item)
            state = f"ok      {path}"
        except (IntegrityError, MissingPackageError) as error:
            state = f"PROBLEM {error}"
            problems += 1
        print(f"  {item.distribution:<20} {item.relpath:<36} {state}")
    print("Roles offline")
    for role, kind, state in _role_states():
        print(f"  {role:<16} {kind:<10} {state}")
    from .cache import cache_dir

    print(f"Tutorial cache ({cache_dir()})")
    _print_cache_rows()
    if problems:
        print(f"{problems} problem(s) found: see the messages above.")
    return 1 if problems else 0


def _prepare(args: argparse.Namespace) -> int:
    """Verify or build every offline source of the registry (no-op where the cache is complete)."""
    from .env import quiet
    from .progress import progress
    from .roles import ROLES, prepare_steps

    quiet()
    steps = prepare_steps()
    bar = progress(steps, desc="preparing offline assets", unit="asset", disable=args.no_progress)
    for step in bar:
        bar.set_postfix_str(step.name.split(":")[0])
        started = time.perf_counter()
        path = step.run()  # a build shows its own progress and figures
        bar.write(f"  done  {step.name}  ({time.perf_counter() - started:.1f} s)  {path}")
    for role in ROLES.values():
        if role.offline.kind == "none":
            print(f"  none  {role.name}: {role.offline.label}; online: {role.online_id}")
    return 0


def _export(archive: Path, entries: str | None) -> int:
    """Pack the registry's cache entries (each must be complete) and any other complete one."""
    from .cache import complete_entries
    from .cache_archive import export_cache
    from .roles import pack_entries

    names = [e for e in (entries or "").split(",") if e]
    if not names:
        required = pack_entries()
        names = required + [e for e in complete_entries() if e not in required]
    packed = export_cache(archive, names)
    size = archive.stat().st_size / 2**20
    print(f"wrote {len(packed)} entries ({size:.0f} MB) to {archive}: {', '.join(packed)}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from .cache import cache_dir, clear_cache
    from .cache_archive import CacheArchiveError

    try:
        if args.export:
            return _export(Path(args.export), args.entries)
        if args.import_:
            from .cache_archive import import_cache

            names = import_cache(Path(args.import_))
            print(f"{cache_dir()} holds the archive's {len(names)} entries: {', '.join(names)}")
            return 0
    except CacheArchiveError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.clear is not None:
        removed = clear_cache(args.clear or None)
        print(
            f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} from {cache_dir()}"
        )
        return 0
    print(cache_dir())
    _print_cache_rows()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutorial_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="print the environment report and check offline assets")
    prepare = sub.add_parser("prepare", help="build every offline asset now (ahead of a class)")
    prepare.add_argument("--no-progress", action="store_true")
    cache = sub.add_parser(
        "cache", help="show the cache and each entry's state; clear, export or import it"
    )
    cache.add_argument(
        "--clear",
        nargs="?",
        const="",
        default=None,
        metavar="ENTRY",
        help="delete one entry, or all entries when no name is given",
    )
    cache.add_argument(
        "--export",
        metavar="FILE",
        help="write the registry's entries (and any other complete one) into a tar file",
    )
    cache.add_argument("--entries", metavar="A,B", help="with --export: only these entries")
    cache.add_argument(
        "--import", dest="import_", metavar="FILE", help="unpack a tar file, verify, install it"
    )
    args = parser.parse_args(argv)
    handler = {"doctor": _doctor, "prepare": _prepare, "cache": _cache}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

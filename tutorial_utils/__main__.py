"""Command line: ``python -m tutorial_utils doctor | prepare | cache``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _doctor(_: argparse.Namespace) -> int:
    from .env import environment_report, quiet
    from .integrity import PINNED_FILES, IntegrityError, MissingPackageError, packaged_file

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
    for item in PINNED_FILES:
        try:
            path = packaged_file(item)
            state = f"ok      {path}"
        except (IntegrityError, MissingPackageError) as error:
            state = f"PROBLEM {error}"
            problems += 1
        print(f"  {item.distribution:<20} {item.relpath:<36} {state}")
    from .cache import cache_summary
    from .offline_models import RECIPE_VERSION

    rows = cache_summary(RECIPE_VERSION)
    print(f"Tutorial cache ({len(rows)} entries)")
    for row in rows:
        print(f"  {row['entry']:<32} {row['size_mb']:>8.1f} MB  {row['state']}")
    if problems:
        print(f"{problems} problem(s) found: see the messages above.")
    return 1 if problems else 0


def _prepare(args: argparse.Namespace) -> int:
    """Build every offline asset ahead of a class (no-op where the cache is complete)."""
    from tqdm.auto import tqdm

    from . import data, offline_models
    from .env import quiet

    quiet()
    steps = [
        ("encoder / embedder: all-MiniLM-L6-v2 (verify package)", offline_models.minilm_dir),
        ("generator / chat: SmolLM2-135M-Instruct (dequantise GGUF)", offline_models.smollm2_dir),
        ("movie reviews (verify package)", data.reviews_csv),
        ("sentiment: MiniLM fine-tuned on Rotten Tomatoes", offline_models.sentiment_model_dir),
        (
            "fill-mask: all-MiniLM-L6-v2 + masked-LM head, trained further on IMDB",
            offline_models.fill_mask_model_dir,
        ),
    ]
    bar = tqdm(steps, desc="preparing offline assets", unit="asset", disable=args.no_progress)
    for name, step in bar:
        bar.set_postfix_str(name.split(":")[0])
        started = time.perf_counter()
        path = step()
        tqdm.write(f"  done  {name}  ({time.perf_counter() - started:.1f} s)  {path}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from .cache import CacheArchiveError, cache_dir, cache_summary, clear_cache

    try:
        if args.export:
            from .cache import export_cache

            entries = [e for e in (args.entries or "").split(",") if e]
            names = export_cache(Path(args.export), entries or None)
            size = Path(args.export).stat().st_size / 2**20
            print(
                f"wrote {len(names)} entries ({size:.0f} MB) to {args.export}: {', '.join(names)}"
            )
            return 0
        if args.import_:
            from .cache import import_cache

            names = import_cache(Path(args.import_))
            print(f"imported {len(names)} verified entries into {cache_dir()}: {', '.join(names)}")
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
    from .offline_models import RECIPE_VERSION

    print(cache_dir())
    for row in cache_summary(RECIPE_VERSION):
        print(f"  {row['entry']:<32} {row['size_mb']:>8.1f} MB  {row['state']}")
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
    cache.add_argument("--export", metavar="FILE", help="write complete entries into a tar file")
    cache.add_argument("--entries", metavar="A,B", help="with --export: only these entries")
    cache.add_argument(
        "--import", dest="import_", metavar="FILE", help="unpack a tar file, verify, install it"
    )
    args = parser.parse_args(argv)
    handler = {"doctor": _doctor, "prepare": _prepare, "cache": _cache}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

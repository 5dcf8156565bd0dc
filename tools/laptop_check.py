"""Is this laptop ready for the class? ``python dev.py check`` runs this in the course's environment.

One line per item, ``ok`` or ``FAIL`` and what to do; exit status 1 unless every item is
good. The items: the packages the course asks for (installed, in the versions
``pyproject.toml`` admits, torch and transformers importable), each packaged offline file
(SHA-256 against its pinned digest), each model the course builds (every file against its
``MANIFEST.json`` and the current recipe), the class setting, and one lesson run offline in
fast mode (lesson 00, into a temporary folder). Nothing is installed, built or downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SMOKE_LESSON = "00_setup_and_hub_tour.ipynb"
FIX_MODELS = (
    "run `python dev.py setup --from PACK --no-run` (imports the pack's models) "
    "or `python dev.py prepare` (builds them)"
)


def report(ok: bool, item: str, message: str) -> bool:
    print(f"{'ok  ' if ok else 'FAIL'}  {item:<14} {message}", flush=True)
    return ok


def _requirements(distribution: str, extras: set[str]) -> list:
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    found = []
    for text in requires(distribution) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
            found.append(requirement)
    return found


def check_packages(extras: set[str], also: list[str]) -> bool:
    """Every requirement of the course installed in an admitted version; the stack imports."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    wanted = _requirements("tutorial-utils", extras) + [Requirement(r) for r in also]
    wanted = [r for r in wanted if r.name != "tutorial-utils"]
    bad = []
    for requirement in wanted:
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            bad.append(f"{requirement.name} is missing")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            bad.append(f"{requirement.name} {installed} is not {requirement.specifier}")
    if bad:
        fix = "run `python dev.py setup --from PACK --no-run --force`"
        return report(False, "packages", f"{'; '.join(bad)}: {fix}")
    try:
        import torch
        import transformers
    except Exception as error:  # noqa: BLE001 - any import failure is the finding
        return report(False, "packages", f"import failed ({error}): reinstall with setup --force")
    build = "CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
    return report(
        True,
        "packages",
        f"{len(wanted)} requirements met; torch {torch.__version__} ({build}), "
        f"transformers {transformers.__version__}",
    )


def check_packaged_files() -> list[bool]:
    """The model and data files that come in PyPI packages, against their pinned SHA-256."""
    from tutorial_utils.integrity import PINNED_FILES, packaged_file
    from tutorial_utils.roles import packaged_sources

    files = list(PINNED_FILES)
    for source in packaged_sources():
        files += [item for item in source.files if item not in files]
    results = []
    for item in files:
        name = f"{item.distribution} {item.relpath}"
        try:
            packaged_file(item)
            results.append(report(True, "packaged file", f"{name}: SHA-256 matches"))
        except Exception as error:  # noqa: BLE001 - IntegrityError, MissingPackageError
            results.append(report(False, "packaged file", f"{name}: {error}"))
    return results


def check_models() -> list[bool]:
    """Each model the course builds: in the cache, every file as its manifest records."""
    from tutorial_utils.cache import cache_dir, entry_problem
    from tutorial_utils.roles import recipe_versions

    root = cache_dir()
    results = []
    for entry, recipe in sorted(recipe_versions().items()):
        folder = root / entry
        if not folder.is_dir():
            results.append(report(False, "model", f"{entry}: not in {root}: {FIX_MODELS}"))
            continue
        problem = entry_problem(folder, recipe, deep=True)
        if problem:
            results.append(report(False, "model", f"{entry}: {problem}: {FIX_MODELS}"))
        else:
            message = f"{entry}: every file matches MANIFEST.json (recipe {recipe})"
            results.append(report(True, "model", message))
    return results


def check_class_setting() -> bool:
    from tutorial_utils.hub_mode import class_setting

    setting = class_setting()
    if setting:
        return report(True, "class setting", f"on ({setting})")
    return report(
        False,
        "class setting",
        "off: copy classroom.toml from the pack into the project "
        "(`python dev.py setup --from PACK --no-run` does) or set TUTORIAL_OFFLINE=1",
    )


def check_lesson(root: Path, run: Callable | None = None) -> bool:
    """Lesson 00 in fast mode, offline, into a temporary folder (left nowhere on the laptop)."""
    from tools.series import run_notebook, temporary_environment

    run = run or run_notebook
    path = root / "notebooks" / SMOKE_LESSON
    with tempfile.TemporaryDirectory() as tmp:
        values = {
            "TUTORIAL_FAST": "1",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TUTORIAL_OUTPUT_DIR": str(Path(tmp) / "outputs"),
        }
        with temporary_environment(values):
            started = time.perf_counter()
            result = run(path, Path(tmp) / "run", {"FAST": True}, html=False)
    if result.status != "ok":
        return report(False, "lesson 00", f"failed: {result.error}")
    seconds = time.perf_counter() - started
    return report(True, "lesson 00", f"ran offline in fast mode in {seconds:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python dev.py check", description=__doc__)
    parser.add_argument("--extras", default="notebooks", help="the extras installed (default)")
    parser.add_argument(
        "--environment",
        choices=["ok", "stale"],
        help="what dev.py found of the environment (it prints that line itself)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the check asks nothing of the network
    from tutorial_utils.paths import project_root

    sys.path.insert(0, str(project_root()))
    import dev  # dev.py: the packages installed without their dependencies

    results = [check_packages(set(args.extras.split(",")), dev.NO_DEPS)]
    if results[0]:
        results += check_packaged_files()
        models = check_models()
        results += models
        results.append(check_class_setting())
        if all(models):
            results.append(check_lesson(project_root()))
        else:
            results.append(report(False, "lesson 00", "not run: a model above is missing"))
    results += [args.environment == "ok"] if args.environment else []
    passed = sum(results)
    if passed == len(results):
        print(f"ready: all {len(results)} checks passed")
        return 0
    print(f"not ready: {len(results) - passed} of {len(results)} checks failed (see FAIL above)")
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""The classroom pack: ``python dev.py pack DIR`` and ``python dev.py setup --from PACK``.

``dev`` is the dev.py module (its virtual environment, pip pins and ``sh``). Standard
library only: it runs before the course's environment exists. docs/teaching.md explains
the kit; tools/classroom.py holds the pieces these two commands share with the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from tools.classroom import (
    CPU_TORCH_INDEX,
    TORCH_INDEX_ENV,
    pack_problem,
    render,
    system_of,
    this_computer,
    torch_build_problem,
    torch_wheels,
)

PACK_INFO = "pack.json"
PACK_CACHE = "course-cache.tar"  # the built offline models; the same for every system
CLASS_FILE = "classroom.toml"  # the class setting (tutorial_utils.hub_mode.class_setting)
CLASS_TEXT = """\
# The class setting: every laptop uses the same offline models (see docs/teaching.md),
# whatever the network does. `python dev.py setup --from PACK` copies this file into the
# project. Write `offline = false` (or delete the file) to let laptops use the Hub.
offline = true
"""


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def torch_index_reachable(index: str) -> bool:
    """True when ``index`` (a pip index URL) answers for torch within 10 seconds."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=10) as answer:
            return answer.status == 200
    except Exception:  # any failure means: not usable from here
        return False


def fetch_cpu_torch(
    dev: ModuleType, download: list, wheelhouse: Path, index: str, pack_command: str, where: str
) -> Path:
    """Download torch's CPU wheel into ``wheelhouse``; stop unless it is the CPU build.

    ``index``: PyTorch's CPU index, a mirror of it, or a folder holding the wheel. When the
    index cannot be reached, pip's own sources (its configured index and find-links) are
    asked instead, and the wheel they give is checked all the same.
    """
    one = [*download, "--no-deps"]
    if Path(index).expanduser().is_dir():
        dev.sh(*one, "--no-index", "--find-links", Path(index).expanduser().resolve(), dev.TORCH)
    elif torch_index_reachable(index):
        dev.sh(*one, "--index-url", index, dev.TORCH)
    else:
        print(
            f"The torch index {index} cannot be reached from here: asking pip's own sources "
            f"(its configured index and find-links) for {dev.TORCH}; the wheel is checked below."
        )
        dev.sh(*one, dev.TORCH)
    wheels = torch_wheels(wheelhouse)
    problems = [p for p in map(torch_build_problem, wheels) if p]
    if len(wheels) == 1 and not problems:
        print(f"torch: {wheels[0].name} is the CPU build (no CUDA libraries).")
        return wheels[0]
    for wheel in wheels:
        wheel.unlink()
    sys.exit(
        f"The torch wheel for the pack is not the CPU build: {'; '.join(problems) or wheels}.\n"
        "It would bring several GB of CUDA libraries that the laptops cannot use. Make the pack\n"
        f"again with PyTorch's CPU index ({CPU_TORCH_INDEX}) or a mirror of it:\n\n"
        f"    {pack_command} --torch-index {CPU_TORCH_INDEX}\n\n"
        "or download the CPU wheel where that index is reachable and give its folder:\n\n"
        f"    pip download {dev.TORCH} --no-deps --index-url {CPU_TORCH_INDEX} "
        f"--dest torch-cpu {where}\n"
        f"    {pack_command} --torch-index torch-cpu\n"
    )


def source_name_version(archive: str) -> tuple[str, str]:
    """``("snownlp", "0.12.3")`` for ``snownlp-0.12.3.tar.gz`` (a source archive's file name)."""
    stem = archive.removesuffix(".tar.gz").removesuffix(".zip")
    name, _, version = stem.rpartition("-")
    if not name or not version:
        raise ValueError(f"{archive} is not named NAME-VERSION.tar.gz or NAME-VERSION.zip")
    return name, version


def wheels_from_sources(dev: ModuleType, wheelhouse: Path, cross: bool) -> None:
    """Build a wheel from each source archive pip took (a package without wheels, snownlp).

    The laptops then install wheels only, with no build. pip is asked first for NAME==VERSION
    built from source (``--no-binary``) from its own sources: that finds the wheel pip built
    and cached when it installed the package here, in about a second instead of about 5 s of
    building; where that does not work, pip builds the archive itself. In a pack for another
    computer only a pure-Python wheel (``-none-any``) fits: any other stops the pack.
    """
    for source in sorted(wheelhouse.iterdir()):
        if not source.name.endswith((".tar.gz", ".zip")):
            continue
        before = set(wheelhouse.glob("*.whl"))
        wheel = [dev.venv_python(), "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
        wheel += ["--no-deps", "--wheel-dir", wheelhouse]
        name, version = source_name_version(source.name)
        by_name = [str(a) for a in (*wheel, "--no-binary", name, f"{name}=={version}")]
        print("$", " ".join(by_name), flush=True)
        reused = subprocess.run(by_name, cwd=dev.ROOT, capture_output=True, text=True)
        if reused.returncode != 0 or not set(wheelhouse.glob("*.whl")) - before:
            print(f"  pip could not give {name}=={version} that way; building {source.name}")
            dev.sh(*wheel, source)
        built = sorted(set(wheelhouse.glob("*.whl")) - before)
        native = [w.name for w in built if not w.name.endswith("-none-any.whl")]
        if cross and native:
            sys.exit(
                f"{source.name} has no wheel for the target computer and builds into "
                f"{', '.join(native)} here, which fits only this computer: make this pack on "
                "a computer of the laptops' kind (`python dev.py pack DIR` there)."
            )
        print(f"wheel {', '.join(w.name for w in built)} for {source.name}")
        source.unlink()


def pack(dev: ModuleType, args: argparse.Namespace) -> None:
    """Make a classroom pack in DIR: wheels, built models, student copy, class setting, README."""
    import shutil

    target = args.dir.expanduser().resolve()
    if args.fast:
        print("pack --fast is now called --no-build (skip building models); doing that.")
    build = not (args.no_build or args.fast)
    if target.exists() and any(p.name != "wheelhouse" for p in target.iterdir()):
        sys.exit(f"{target} is not empty: give a new folder for the pack.")
    started = time.time()
    if not dev.venv_python().exists():
        dev.install()  # the teacher's own environment: it resolves the wheels and checks the models
    if build:
        dev.prepare()  # build every offline model first
    here = this_computer()
    python = args.python_version or here["python"]
    wheel_platform = args.platform or here["platform"]
    wheelhouse = target / "wheelhouse"
    if python != here["python"] and not args.platform:
        sys.exit("pack --python-version needs --platform too (win_amd64, macosx_14_0_arm64, ...).")
    pip = [dev.venv_python(), "-m", "pip"]
    where = ""  # the target options, for the commands shown in messages
    if args.platform:  # another computer: pip with its markers and wheel tags (tools/pip_for.py)
        pip = [dev.venv_python(), "-m", "tools.pip_for", args.platform, python]
        where = f"--platform {args.platform} --python-version {python} --only-binary=:all:"
    download = [*pip, "download", "--disable-pip-version-check", "-q", "--dest", wheelhouse]
    index = args.torch_index or os.environ.get(TORCH_INDEX_ENV) or CPU_TORCH_INDEX
    pack_command = f"python dev.py pack {target}" + "".join(
        f" {flag} {value}"
        for flag, value in (
            ("--platform", args.platform),
            ("--python-version", args.python_version),
            ("--extras", None if args.extras == "notebooks" else args.extras),
        )
        if value
    )
    torch_wheel = fetch_cpu_torch(dev, download, wheelhouse, index, pack_command, where)
    # setuptools: the project is installed in editable mode from its folder, built offline
    dev.sh(*download, "--find-links", wheelhouse, f".[{args.extras}]", dev.TORCH, "setuptools>=68")
    dev.sh(*download, "--no-deps", *dev.NO_DEPS)
    wheels_from_sources(dev, wheelhouse, cross=bool(args.platform))
    wheels = sorted(p.name for p in wheelhouse.iterdir())
    gpu = [w for w in wheels if w.lower().startswith(("nvidia", "triton", "cuda"))]
    if gpu or torch_wheels(wheelhouse) != [torch_wheel]:
        sys.exit(f"CUDA packages or a second torch came into {wheelhouse}: {gpu or wheels}")
    dev.in_venv("-m", "tutorial_utils", "cache", "--export", target / PACK_CACHE)
    dev.student_copy(target / "course")
    (target / CLASS_FILE).write_text(CLASS_TEXT, encoding="utf-8")
    system, machine = system_of(wheel_platform)
    if not args.platform:  # this computer: its machine, whatever the Python build says
        system, machine = here["system"], here["machine"]
    info = {
        "python": python,
        "platform": wheel_platform,
        "system": system,
        "machine": machine,
        "extras": args.extras,
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "built_models": build,
        "torch": dev.TORCH,
        "torch_wheel": torch_wheel.name,
        "no_deps": dev.NO_DEPS,
        "wheels": wheels,
    }
    (target / PACK_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    sizes = {
        "wheels": folder_size(wheelhouse),
        "models": (target / PACK_CACHE).stat().st_size,
        "lessons": folder_size(target / "course"),
    }
    (target / "README.md").write_text(pack_readme(info, sizes), encoding="utf-8")
    total = folder_size(target)
    free = shutil.disk_usage(target).free
    print(
        f"Pack ready in {time.time() - started:.0f} s: {target}\n"
        f"  size {total / 2**20:.0f} MB (wheels {sizes['wheels'] / 2**20:.0f} MB, "
        f"models {sizes['models'] / 2**20:.0f} MB, lessons {sizes['lessons'] / 2**20:.1f} MB); "
        f"{free / 2**30:.0f} GB free there\n"
        f"  for Python {python} on {system} ({machine}, wheels for {wheel_platform}); "
        f"the teacher's guide: {target / 'README.md'}"
    )


def pack_readme(info: dict, sizes: dict) -> str:
    windows = info["system"] == "windows"
    return render(
        "pack_readme.md",
        made=info["made"],
        python=info["python"],
        system=info["system"],
        machine=info["machine"],
        platform=info["platform"],
        total_mb=f"{sum(sizes.values()) / 2**20:.0f}",
        wheels_mb=f"{sizes['wheels'] / 2**20:.0f}",
        models_mb=f"{sizes['models'] / 2**20:.0f}",
        torch_wheel=info["torch_wheel"],
        start=f"py -{info['python']} dev.py" if windows else f"python{info['python']} dev.py",
        cache_file=PACK_CACHE,
        class_file=CLASS_FILE,
        info_file=PACK_INFO,
    )


def setup_from(dev: ModuleType, args: argparse.Namespace, extra: list[str]) -> None:
    """Set up this laptop from a classroom pack, with no network: pip --no-index, cache import."""
    import shutil

    source = Path(args.source).expanduser().resolve()
    info_path = source / PACK_INFO
    if not info_path.is_file():
        sys.exit(
            f"{source} is not a classroom pack (no {PACK_INFO}): make one with `python dev.py pack DIR`."
        )
    info = json.loads(info_path.read_text(encoding="utf-8"))
    here = this_computer()
    problem = pack_problem(info, here)
    if problem:
        sys.exit(
            f"This pack was made for Python {info['python']} on {info['platform']}; this computer "
            f"runs Python {here['python']} on {here['platform']}: {problem}. Use that Python, or "
            "make a pack for this computer (`python dev.py pack DIR --platform TAG "
            "--python-version X.Y`, README: classroom)."
        )
    started = time.time()
    digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]
    stamp = dev.STAMP.read_text(encoding="utf-8").split() if dev.STAMP.exists() else []
    if not args.force and stamp[:1] == [dev.install_fingerprint()] and f"pack:{digest}" in stamp:
        print(f"Packages: installed from this pack already ({dev.STAMP}; --force installs again).")
    else:
        if not dev.venv_python().exists():
            print(f"Creating the virtual environment {dev.VENV}")
            dev.sh(sys.executable, "-m", "venv", dev.VENV)
        pip = [dev.venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        pip += ["--no-index", "--find-links", source / "wheelhouse"]
        dev.sh(*pip, info.get("torch", dev.TORCH))
        dev.sh(*pip, "-e", f".[{info.get('extras', 'notebooks')}]", info.get("torch", dev.TORCH))
        dev.sh(*pip, "--no-deps", *info.get("no_deps", dev.NO_DEPS))
        dev.STAMP.write_text(f"{dev.install_fingerprint()}\npack:{digest}", encoding="utf-8")
    installed = time.time() - started
    if (source / CLASS_FILE).is_file():
        shutil.copyfile(source / CLASS_FILE, dev.ROOT / CLASS_FILE)
        print(f"Class setting: copied {CLASS_FILE} from the pack into {dev.ROOT}.")
    dev.in_venv("-m", "tutorial_utils", "cache", "--import", source / PACK_CACHE, env=dev.OFFLINE)
    print(
        f"Set up from the pack in {time.time() - started:.0f} s "
        f"(packages {installed:.0f} s, models {time.time() - started - installed:.0f} s)."
    )
    # checks every model; builds only what is missing
    dev.prepare(env=dev.OFFLINE)
    if not args.no_run:
        dev.in_venv("-m", "tools.series", *dev.series_args(args, extra), env=dev.OFFLINE)

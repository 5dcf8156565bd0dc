"""The classroom kit's pieces that need no third-party package (``dev.py`` imports them).

- Which laptops a pack fits: the operating system family, the machine, the Python minor
  version and the oldest glibc or macOS release its wheels accept
  (:func:`pack_problem`), for packs made for this computer or for another
  (``python dev.py pack --platform win_amd64``).
- Whether a torch wheel is the CPU build (:func:`torch_build_problem`).
- The student copy: lessons without solutions or outputs, with the student README
  (:func:`student_copy`), and the READMEs rendered from ``tools/templates/``.

Standard library only: it runs before the course's environment exists.
"""

from __future__ import annotations

import platform
import re
import shutil
import string
import sys
import sysconfig
import zipfile
from pathlib import Path

from tools.checked_outputs import clean_notebook

TEMPLATES = Path(__file__).resolve().parent / "templates"
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's index of CPU-only wheels
TORCH_INDEX_ENV = "COURSE_TORCH_INDEX"  # a mirror of it, or a folder holding the CPU wheel

# --- which computers a pack fits --------------------------------------------------------------

_MACHINES = {"amd64": "x86_64", "x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def system_of(platform_name: str) -> tuple[str, str]:
    """(os family, machine) of a platform name, as sysconfig or a wheel tag writes it.

    ``linux-x86_64`` and ``manylinux_2_28_x86_64`` give ("linux", "x86_64"),
    ``macosx-14.0-arm64`` and ``macosx_11_0_arm64`` ("macos", "arm64"), ``win-amd64`` and
    ``win_amd64`` ("windows", "x86_64"); ``universal2`` (macOS) stays as it is.
    """
    name = platform_name.lower().replace("-", "_").replace(".", "_")
    if name.startswith("macosx"):
        family = "macos"
    elif name.startswith("win"):
        family = "windows"
    elif "linux" in name:
        family = "linux"
    else:
        family = name.split("_")[0]
    if name == "win32":
        return family, "x86"
    machine = re.sub(r"^(many|musl)?linux(_\d+_\d+|\d+)?_|^macosx_\d+_\d+_|^win_|^linux_", "", name)
    return family, _MACHINES.get(machine, machine)


def machines_match(pack: str, laptop: str) -> bool:
    """True when wheels for ``pack``'s machine run on ``laptop``'s (universal2: both Macs)."""
    return pack == laptop or (pack == "universal2" and laptop in {"x86_64", "arm64"})


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:2])


def wheel_needs(wheels: list[str]) -> dict[str, tuple[int, ...]]:
    """The oldest glibc and macOS release on which every wheel of ``wheels`` installs.

    A wheel tagged ``manylinux_2_28_x86_64`` needs glibc 2.28 or newer, one tagged
    ``macosx_11_0_arm64`` macOS 11 or newer; a wheel with several tags needs the least of
    them. Returns ``{"glibc": (2, 28), "macos": (11, 0)}`` with the keys that apply.
    """
    aliases = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    needs: dict[str, tuple[int, ...]] = {}
    for wheel in wheels:
        if not wheel.endswith(".whl"):
            continue
        tags = wheel[: -len(".whl")].split("-")[-1].split(".")
        for key, pattern in (
            ("glibc", r"manylinux_(\d+)_(\d+)_"),
            ("macos", r"macosx_(\d+)_(\d+)_"),
        ):
            found = []
            for tag in tags:
                match = re.match(pattern, tag)
                if match:
                    found.append((int(match[1]), int(match[2])))
                elif key == "glibc" and tag.split("_")[0] in aliases:
                    found.append(aliases[tag.split("_")[0]])
            if found:
                needs[key] = max(needs.get(key, (0,)), min(found))
    return needs


def this_computer() -> dict:
    """What this Python and computer are, in the terms :func:`pack_problem` compares."""
    family = system_of(sysconfig.get_platform())[0]
    # the machine this Python runs on (a universal2 build on a Mac runs as arm64 or x86_64)
    machine = _MACHINES.get(platform.machine().lower(), platform.machine().lower())
    found = {
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "platform": sysconfig.get_platform(),
        "system": family,
        "machine": machine,
    }
    if family == "linux":
        libc, version = platform.libc_ver()
        if libc == "glibc" and version:
            found["glibc"] = ".".join(map(str, _version(version)))
    elif family == "macos" and platform.mac_ver()[0]:
        found["macos"] = platform.mac_ver()[0]
    return found


def pack_problem(info: dict, here: dict) -> str | None:
    """Why the pack described by ``info`` (its pack.json) cannot set up ``here``, or None.

    Compared: the Python minor version (the wheels are built per version), the OS family
    and machine (not the exact macOS release in the platform name), and the oldest glibc
    or macOS release the pack's wheels need.
    """
    if info["python"] != here["python"]:
        return f"its wheels are for Python {info['python']}, this is Python {here['python']}"
    family, machine = system_of(info["platform"])
    family, machine = info.get("system", family), info.get("machine", machine)
    if family != here["system"] or not machines_match(machine, here["machine"]):
        return f"its wheels are for {family} on {machine}, this is {here['system']} on {here['machine']}"
    for key, label in (("glibc", "glibc"), ("macos", "macOS")):
        needed = wheel_needs(info.get("wheels", [])).get(key)
        have = here.get(key)
        if needed and have and _version(have) < needed:
            version = ".".join(map(str, needed))
            return f"its wheels need {label} {version} or newer, this computer has {have}"
    return None


# --- the CPU build of torch -------------------------------------------------------------------

_GPU_REQUIREMENT = re.compile(r"^(nvidia-|triton|cuda-|pytorch-triton)", re.I)
_SYSTEM_MARKER = re.compile(r"(?:platform_system|sys_platform)\s*==\s*[\"']([^\"']+)[\"']")
_MARKER_SYSTEMS = {"linux": "linux", "windows": "windows", "win32": "windows", "darwin": "macos"}


def gpu_requirements(requires: list[str], family: str) -> list[str]:
    """The CUDA packages among ``requires`` (Requires-Dist values) that apply on ``family``.

    A requirement whose marker names only other systems (``platform_system == "Linux"``
    in a Windows wheel) does not apply.
    """
    found = []
    for requirement in requires:
        if not _GPU_REQUIREMENT.match(requirement.strip()):
            continue
        named = {
            _MARKER_SYSTEMS.get(v.lower(), v.lower()) for v in _SYSTEM_MARKER.findall(requirement)
        }
        if not named or family in named:
            found.append(requirement.strip())
    return found


def torch_build_problem(wheel: Path) -> str | None:
    """Why the torch wheel ``wheel`` is not the CPU-only build, or None when it is.

    A CUDA (or ROCm) build says so in its local version (``torch-2.13.0+cu126-...``) or
    asks for the CUDA libraries (``Requires-Dist: nvidia-cudnn-cu13 ...; platform_system
    == "Linux"``, cuda-toolkit, triton) in its METADATA, for the system the wheel is for.
    PyTorch's CPU index names its Linux and Windows wheels ``+cpu``; PyPI's Windows and
    macOS wheels have no local version and are CPU-only (their CUDA requirements are
    marked Linux-only); PyPI's Linux wheel is the CUDA build.
    """
    parts = wheel.name[: -len(".whl")].split("-")
    version = parts[1] if len(parts) >= 5 else ""
    local = version.partition("+")[2]
    if local and local != "cpu":
        return f"{wheel.name} is the {local} build (its version says +{local})"
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            metadata = archive.read(names[0]).decode("utf-8", "replace") if names else ""
    except (OSError, zipfile.BadZipFile) as error:
        return f"{wheel.name} cannot be read ({error})"
    if not metadata:
        return f"{wheel.name} has no METADATA"
    family = system_of(parts[-1].split(".")[0])[0] if len(parts) >= 5 else ""
    requires = [
        line.split(":", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    gpu = gpu_requirements(requires, family)
    if gpu:
        return f"{wheel.name} asks for {len(gpu)} CUDA packages ({', '.join(gpu[:2])}, ...)"
    return None


def torch_wheels(folder: Path) -> list[Path]:
    """The torch wheels in ``folder`` (a wheelhouse)."""
    return sorted(p for p in Path(folder).glob("*.whl") if p.name.lower().startswith("torch-"))


# --- the student copy -------------------------------------------------------------------------

STUDENT_PARTS = [
    "notebooks",
    "tutorial_utils",
    "tools",
    "apps",
    "scripts",
    "dev.py",
    "pyproject.toml",
    "environment.yml",
    "LICENSE",
    "NOTICE",
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
ASK_FOR_SOLUTIONS = "Ask your teacher for the solutions."
ASK_FOR_SOLUTIONS_ZH = "解答请向老师索取。"
# "Solutions are in `solutions/NN_..._solutions.ipynb`." (a lesson's exercises section) and
# any other mention of a solution notebook, written as code or as a link
_SOLUTIONS_SENTENCE = re.compile(r"Solutions are in\s+`?\.{0,2}/?solutions/[^`\s]+`?\.?")
_SOLUTIONS_MENTION = re.compile(
    r"\[[^\]]*\]\([^)]*solutions/[^)]*\)|`[^`\n]*solutions/[^`\n]*`|\S*solutions/\S+\.ipynb"
)


def without_solution_links(text: str, chinese: bool = False) -> str:
    """Markdown of a lesson with every pointer to a solution notebook replaced by an ask."""
    ask = ASK_FOR_SOLUTIONS_ZH if chinese else ASK_FOR_SOLUTIONS
    text = _SOLUTIONS_SENTENCE.sub(ask, text)
    return _SOLUTIONS_MENTION.sub(ask.rstrip(".。") if not chinese else ask, text)


def _student_notebook(source: Path, target: Path) -> None:
    """Write ``source`` to ``target`` without outputs and without links to solutions."""
    import json

    clean_notebook(source, target, keep_checked=False)
    notebook = json.loads(target.read_text(encoding="utf-8"))
    chinese = "zh-CN" in source.parts
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            new = without_solution_links(text, chinese)
            if new != text:
                cell["source"] = new.splitlines(keepends=True)
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def render(template: str, **values: object) -> str:
    """``tools/templates/<template>`` with ``$name`` placeholders filled in."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    return string.Template(text).substitute({k: str(v) for k, v in values.items()})


def lesson_list(root: Path) -> str:
    """Markdown bullets of the lessons in ``root/notebooks`` with their titles."""
    import json

    lines = []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        title = next(
            (
                "".join(c["source"]).splitlines()[0].lstrip("# ").strip()
                for c in cells
                if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("#")
            ),
            path.stem,
        )
        lines.append(f"- [{title}](notebooks/{path.name})")
    return "\n".join(lines)


def student_copy(root: Path, target: Path) -> int:
    """Write the lessons to hand out into ``target``; returns the number of files written.

    No solutions, no outputs, no tests, no .git or .venv; the README is the student one
    (tools/templates/student_readme.md) and lessons ask for the solutions instead of
    pointing to them.
    """
    root, target = Path(root).resolve(), Path(target).resolve()
    inside = [root / part for part in STUDENT_PARTS]
    if target == root or any(p == target or p in target.parents for p in inside):
        raise ValueError(f"Write the student copy outside the copied folders (not {target}).")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty: give a new folder for the student copy.")
    copied = 0
    for part in STUDENT_PARTS:
        source = root / part
        files = (
            [source] if source.is_file() else sorted(source.rglob("*")) if source.is_dir() else []
        )
        for path in files:
            rel = path.relative_to(root)
            skipped = STUDENT_SKIP.intersection(rel.parts) or ".egg-info" in str(rel)
            if not path.is_file() or skipped or path.suffix == ".pyc":
                continue
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".ipynb":
                _student_notebook(path, target / rel)
            else:
                shutil.copy2(path, target / rel)
            copied += 1
    readme = render("student_readme.md", lessons=lesson_list(root))
    (target / "README.md").write_text(readme, encoding="utf-8")
    return copied + 1

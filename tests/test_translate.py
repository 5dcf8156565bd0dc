"""The translated edition: one source of code, and drift between the editions fails."""

from __future__ import annotations

import json

import pytest

from tools import translate


def _notebook(cells):
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _md(cell_id, text):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": [text]}


def _code(cell_id, text):
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "source": [text],
        "outputs": [],
        "execution_count": None,
    }


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with one English lesson and a filled-in zh-CN translation file."""
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    monkeypatch.setattr(translate, "NOTEBOOKS", tmp_path / "notebooks")
    lesson = tmp_path / "notebooks" / "01_demo.ipynb"
    lesson.parent.mkdir(parents=True)
    cells = [
        _md("a", "# 01 · Attention\n"),
        _code("b", "x = 1  # a comment\n"),
        _md("c", "A token."),
    ]
    lesson.write_text(json.dumps(_notebook(cells)), encoding="utf-8")
    (tmp_path / "i18n" / "zh-CN").mkdir(parents=True)
    (tmp_path / "i18n" / "zh-CN" / "glossary.tsv").write_text(
        "english\tzh-CN\tavoid\ntoken\t词元\t令牌\n", encoding="utf-8"
    )
    path = translate.stub(lesson, "zh-CN")
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["cells"][0]["text"] = "# 01 · 注意力（attention）\n"
    document["cells"][1]["text"] = "一个词元（token）。"
    document["cells"].append({"after": "b", "id": "zh-1", "text": "给中国大陆读者的说明。"})
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return lesson, path


def _edit_english(lesson, cell_id, text):
    notebook = json.loads(lesson.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["id"] == cell_id:
            cell["source"] = [text]
    lesson.write_text(json.dumps(notebook), encoding="utf-8")


def test_stub_records_the_english_text_and_its_hash(project):
    lesson, path = project
    assert "sha256" in path.read_text(encoding="utf-8")
    assert translate.check_notebook(lesson, "zh-CN") == []


def test_build_copies_code_byte_for_byte_and_places_extra_cells(project):
    lesson, _ = project
    built = translate.build_notebook(lesson, "zh-CN")
    english = json.loads(lesson.read_text(encoding="utf-8"))
    assert [c["id"] for c in built["cells"]] == ["a", "b", "zh-1", "c"]
    assert built["cells"][1] == english["cells"][1]
    assert "".join(built["cells"][0]["source"]) == "# 01 · 注意力（attention）"
    assert built["cells"][2]["metadata"]["tags"] == ["zh-CN-only"]
    written = translate.build("zh-CN")
    assert written == [translate.NOTEBOOKS / "zh-CN" / "01_demo.ipynb"]
    assert translate.build("zh-CN") == []  # up to date: nothing rewritten


def test_a_changed_english_cell_is_stale_and_shows_the_english_diff(project):
    lesson, _ = project
    _edit_english(lesson, "c", "A token, changed.")
    problems = translate.check_notebook(lesson, "zh-CN")
    assert [(p.cell, p.kind) for p in problems] == [("c", "stale")]
    assert "-A token." in problems[0].detail and "+A token, changed." in problems[0].detail


def test_new_english_cells_are_missing_and_removed_ones_orphaned(project):
    lesson, _ = project
    notebook = json.loads(lesson.read_text(encoding="utf-8"))
    notebook["cells"] = [notebook["cells"][0], _md("d", "New text."), notebook["cells"][2]]
    lesson.write_text(json.dumps(notebook), encoding="utf-8")
    kinds = {(p.cell, p.kind) for p in translate.check_notebook(lesson, "zh-CN")}
    assert kinds == {("d", "missing"), ("b", "unused-anchor")}
    notebook["cells"] = notebook["cells"][:2]
    lesson.write_text(json.dumps(notebook), encoding="utf-8")
    kinds = {(p.cell, p.kind) for p in translate.check_notebook(lesson, "zh-CN")}
    assert ("c", "orphan") in kinds


def test_a_glossary_term_rendered_another_way_fails(project):
    lesson, path = project
    assert translate.check_glossary(lesson, "zh-CN") == []
    path.write_text(path.read_text(encoding="utf-8").replace("词元", "令牌"), encoding="utf-8")
    problems = translate.check_glossary(lesson, "zh-CN")
    assert problems and problems[0].kind == "glossary" and "词元" in problems[0].detail


def test_check_command_exits_non_zero_on_drift(project, capsys):
    lesson, _ = project
    assert translate.main(["check"]) == 0
    _edit_english(lesson, "a", "# 01 · Attention, renamed\n")
    assert translate.main(["check"]) == 1
    assert "stale" in capsys.readouterr().out


def test_the_repository_edition_is_in_step_with_english():
    """Every translated notebook: no missing or stale cell, and the built copy is current."""
    for notebook in translate.translated_notebooks("zh-CN"):
        problems = translate.check_notebook(notebook, "zh-CN")
        problems += translate.check_glossary(notebook, "zh-CN")
        assert not problems, "\n".join(map(str, problems))
        built = translate.edition_path(notebook, "zh-CN")
        expected = translate.render(translate.build_notebook(notebook, "zh-CN"))
        assert built.is_file() and built.read_text(encoding="utf-8") == expected, (
            f"{built} is not what `python -m tools.translate build` writes: run it"
        )

"""The message catalogue: the zh-CN edition prints the course's own messages in Chinese."""

from __future__ import annotations

import json
import string

import pytest

import tutorial_utils as tu
from tutorial_utils import exercises, messages
from tutorial_utils.paths import project_root

ROOT = project_root()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_translation_has_the_fields_of_its_english_message():
    for lang, catalogue in messages.CATALOGUE.items():
        for key, text in catalogue.items():
            assert key in messages.MESSAGES, f"{lang}: {key} translates no message"
            assert _fields(text) == _fields(messages.MESSAGES[key]), (lang, key)


def test_untranslated_messages_are_listed_and_fall_back_to_english(monkeypatch):
    missing = messages.untranslated("zh-CN")
    print(f"messages without a zh-CN translation: {missing or 'none'}")
    assert messages.untranslated("en") == []
    monkeypatch.setitem(messages.CATALOGUE, "zh-CN", dict(messages.CATALOGUE["zh-CN"]))
    del messages.CATALOGUE["zh-CN"][messages.EXERCISE_OK]
    assert messages.untranslated("zh-CN") == [*missing, messages.EXERCISE_OK]
    monkeypatch.setenv("TUTORIAL_LANG", "zh-CN")
    assert messages.say(messages.EXERCISE_OK, name="x") == "[ok] x: correct!"


def test_exercise_messages_follow_the_language(monkeypatch, capsys):
    monkeypatch.setenv("TUTORIAL_LANG", "zh-CN")
    result = exercises.check("10.to_bio", None)
    assert not result and "尚未作答" in capsys.readouterr().out
    monkeypatch.setenv("TUTORIAL_LANG", "en")
    exercises.check("10.to_bio", None)
    assert "not attempted yet" in capsys.readouterr().out


def test_a_hint_quoting_braces_is_printed_as_it_is(monkeypatch, capsys):
    @exercises.exercise("99.braces")
    def _check(answer):
        exercises.require(answer == 1, "expected {'a': 1}, got {answer}")

    try:
        exercises.check("99.braces", 2)
    finally:
        exercises._CHECKS.pop("99.braces")
    assert "expected {'a': 1}, got {answer}" in capsys.readouterr().out


def test_checkpoint_and_setup_lines_in_chinese(monkeypatch, capsys):
    monkeypatch.setenv("TUTORIAL_LANG", "zh-CN")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tu.checkpoint("encoder")
    tu.setup(seed=3)
    out = capsys.readouterr().out
    assert "[encoder] 离线：" in out and "文件夹" in out
    assert "设备 " in out and "随机种子 3" in out and "Hub 离线" in out


@pytest.mark.parametrize("value", ["fr", "zh", "ZH-cn"])
def test_an_unknown_language_says_which_exist(monkeypatch, value):
    monkeypatch.setenv("TUTORIAL_LANG", value)
    with pytest.raises(ValueError, match="use one of en, zh-CN"):
        messages.language()
    with pytest.raises(ValueError, match="set_language"):
        tu.set_language(value)


def test_every_zh_notebook_sets_its_language_before_anything_prints(monkeypatch):
    editions = sorted((ROOT / "notebooks" / "zh-CN").rglob("*.ipynb"))
    assert len(editions) == 22
    for path in editions:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        tags = [c.get("metadata", {}).get("tags", []) for c in cells]
        first = next(i for i, t in enumerate(tags) if "parameters" in t)
        language = next(i for i, c in enumerate(cells) if c["id"] == "zh-language")
        assert language == first + 1, path.name
        assert "zh-CN-only" in tags[language]
        assert not any("tu.setup(" in "".join(c["source"]) for c in cells[:language]), path.name
        monkeypatch.setenv("TUTORIAL_LANG", "en")
        exec("".join(cells[language]["source"]), {"tu": tu})  # noqa: S102 - the cell itself
        assert messages.language() == "zh-CN"

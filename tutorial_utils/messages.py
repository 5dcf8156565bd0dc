"""The course's own messages in the learner's language: English, or Chinese in the zh-CN edition.

One catalogue: every message the package prints to a learner is a template in
:data:`MESSAGES` (English, with ``{named}`` fields) and, for each other language, a
translation in :data:`CATALOGUE`. :func:`say` fills in the fields in the current language,
chosen by ``TUTORIAL_LANG`` (``en`` by default; the zh-CN notebooks call
:func:`set_language` in a cell of their own). A message without a translation falls back to
English; :func:`untranslated` lists them, and a test prints that list.
"""

from __future__ import annotations

import os

LANGUAGES = ("en", "zh-CN")

SETUP = "setup"
CHECKPOINT_ONLINE = "checkpoint-online"
CHECKPOINT_OFFLINE = "checkpoint-offline"
CHECKPOINT_REASON = "checkpoint-reason"
FAST_MODE = "fast-mode"
EXERCISE_OK = "exercise-ok"
EXERCISE_EMPTY = "exercise-empty"
EXERCISE_STUB = "exercise-stub"
EXERCISE_HINT = "exercise-hint"
EXERCISE_RAISED = "exercise-raised"

MESSAGES: dict[str, str] = {
    SETUP: "torch {torch} | transformers {transformers} | datasets {datasets} | device {device}"
    " | hub {hub}{reason} | seed {seed}{fast}",
    FAST_MODE: " | FAST mode",
    CHECKPOINT_ONLINE: "[{role}] online: {model!r} from the Hub",
    CHECKPOINT_OFFLINE: "[{role}] offline: {label}, folder {folder}",
    CHECKPOINT_REASON: " ({mode} because {reason})",
    EXERCISE_OK: "[ok] {name}: correct!",
    EXERCISE_EMPTY: "[ ] {name}: not attempted yet - fill in the answer above and run this cell"
    " again.",
    EXERCISE_STUB: "[ ] {name}: not attempted yet - replace `raise NotImplementedError` with your"
    " code.",
    EXERCISE_HINT: "[x] {name}: not yet. Hint: {hint}",
    EXERCISE_RAISED: "[x] {name}: your code raised {error_type}: {error}",
}

CATALOGUE: dict[str, dict[str, str]] = {
    "zh-CN": {
        SETUP: "torch {torch} | transformers {transformers} | datasets {datasets} | 设备 {device}"
        " | Hub {hub}{reason} | 随机种子 {seed}{fast}",
        FAST_MODE: " | 快速模式（FAST）",
        CHECKPOINT_ONLINE: "[{role}] 在线：从 Hub 加载 {model!r}",
        CHECKPOINT_OFFLINE: "[{role}] 离线：{label}，文件夹 {folder}",
        CHECKPOINT_REASON: "（{mode}，原因：{reason}）",
        EXERCISE_OK: "[ok] {name}：正确！",
        EXERCISE_EMPTY: "[ ] {name}：尚未作答——在上面填好答案，再运行一次这个单元格。",
        EXERCISE_STUB: "[ ] {name}：尚未作答——把 `raise NotImplementedError` 换成你的代码。",
        EXERCISE_HINT: "[x] {name}：还不对。提示（英文）：{hint}",
        EXERCISE_RAISED: "[x] {name}：你的代码抛出了 {error_type}：{error}",
    }
}
# Words inside the messages above: the Hub's mode names.
MODES = {"zh-CN": {"online": "在线", "offline": "离线"}}


def _checked(lang: str, where: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(
            f"{where}={lang!r} is not a language of the course: use one of {', '.join(LANGUAGES)}."
        )
    return lang


def language() -> str:
    """The learner's language: ``TUTORIAL_LANG`` (``en`` when unset)."""
    return _checked(os.environ.get("TUTORIAL_LANG", "").strip() or "en", "TUTORIAL_LANG")


def set_language(lang: str) -> str:
    """Print the course's messages in ``lang`` from now on (in this kernel and its children)."""
    os.environ["TUTORIAL_LANG"] = _checked(lang, "set_language")
    return lang


def mode(word: str) -> str:
    """``online`` / ``offline`` in the current language."""
    return MODES.get(language(), {}).get(word, word)


def say(key: str, **fields: object) -> str:
    """Message ``key`` of :data:`MESSAGES` in the current language, its fields filled in.

    The fields are filled in once, so braces inside a value (a hint quoting a dict) stay as
    they are.
    """
    template = CATALOGUE.get(language(), {}).get(key, MESSAGES[key])
    return template.format(**fields)


def untranslated(lang: str) -> list[str]:
    """Keys of :data:`MESSAGES` that ``lang`` has no translation for (they print in English)."""
    _checked(lang, "lang")
    return [] if lang == "en" else [k for k in MESSAGES if k not in CATALOGUE.get(lang, {})]

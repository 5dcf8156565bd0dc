"""Build a translated edition of the notebooks from per-notebook translation files.

    python -m tools.translate build [--lang zh-CN]    write notebooks/<lang>/ from i18n/<lang>/
    python -m tools.translate check [--lang zh-CN]    list what is missing, stale or out of date
    python -m tools.translate stub NOTEBOOK [--lang zh-CN]
                                                      start (or extend) a translation file

The English notebooks are canonical. A translation file ``i18n/<lang>/<name>.yml`` holds,
for every markdown cell of ``notebooks/<name>.ipynb`` (keyed by cell id), the English text it
translates (``en``), that text's SHA-256 (``sha256``) and the translation (``text``).
Entries with ``after: <cell id>`` are cells that exist only in the translation, placed after
that English cell. Code cells are copied byte for byte: there is one source of code.
When an English cell changes, its stored hash no longer matches and ``check`` shows the
English diff, so the same commit updates both.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LANGUAGES = ("zh-CN",)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@dataclass
class Problem:
    """One reason the edition is not in step with the English notebooks."""

    file: str
    cell: str
    kind: str  # missing | stale | orphan | unused-anchor | malformed | glossary
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.file} [{self.cell}] {self.kind}"
        return f"{text}\n{self.detail}" if self.detail else text


def english_notebooks() -> list[Path]:
    """Lessons and solutions, the English originals of every edition."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return found + sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]_*.ipynb"))


def translation_file(notebook: Path, lang: str) -> Path:
    rel = notebook.relative_to(NOTEBOOKS).with_suffix(".yml")
    return ROOT / "i18n" / lang / rel


def edition_path(notebook: Path, lang: str) -> Path:
    return NOTEBOOKS / lang / notebook.relative_to(NOTEBOOKS)


def load_translation(path: Path) -> list[dict]:
    import yaml  # dev dependency: building the edition is a maintainer's step

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("cells", []))


def check_notebook(notebook: Path, lang: str) -> list[Problem]:
    """Every markdown cell translated from its current text; nothing points nowhere."""
    rel = notebook.relative_to(ROOT).as_posix()
    path = translation_file(notebook, lang)
    if not path.is_file():
        return [Problem(rel, "*", "missing", f"no translation file {path.relative_to(ROOT)}")]
    cells = {c["id"]: c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]}
    entries = load_translation(path)
    problems: list[Problem] = []
    translated = set()
    for entry in entries:
        if "after" in entry:
            if entry["after"] not in cells:
                problems.append(Problem(rel, entry["after"], "unused-anchor", "no such cell"))
            continue
        cell = cells.get(entry.get("id"))
        if cell is None:
            problems.append(Problem(rel, str(entry.get("id")), "orphan", "no such English cell"))
            continue
        translated.add(cell["id"])
        english = _source(cell)
        if entry.get("sha256") != sha256(english):
            diff = difflib.unified_diff(
                _lines(entry.get("en", "")), _lines(english), "translated", "english now"
            )
            problems.append(Problem(rel, cell["id"], "stale", "".join(diff)))
        if not str(entry.get("text", "")).strip():
            problems.append(Problem(rel, cell["id"], "malformed", "empty translation"))
    for cell_id, cell in cells.items():
        if cell["cell_type"] == "markdown" and cell_id not in translated:
            problems.append(Problem(rel, cell_id, "missing", _source(cell)[:120]))
    return problems


def build_notebook(notebook: Path, lang: str) -> dict:
    """The translated notebook: English code cells, translated markdown, extra cells."""
    original = json.loads(notebook.read_text(encoding="utf-8"))
    entries = load_translation(translation_file(notebook, lang))
    texts = {e["id"]: e["text"] for e in entries if "after" not in e}
    extra: dict[str, list[dict]] = {}
    for entry in entries:
        if "after" in entry:
            extra.setdefault(entry["after"], []).append(entry)
    built = copy.deepcopy(original)
    built["cells"] = []
    for cell in original["cells"]:
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "markdown" and cell["id"] in texts:
            cell["source"] = _lines(texts[cell["id"]].rstrip("\n"))
        built["cells"].append(cell)
        for entry in extra.get(cell["id"], []):
            kind = entry.get("type", "markdown")
            added = {"cell_type": kind, "id": entry["id"], "metadata": {"tags": [f"{lang}-only"]}}
            added["source"] = _lines(entry["text"].rstrip("\n"))
            if kind == "code":
                added.update(outputs=[], execution_count=None)
            built["cells"].append(added)
    built["metadata"]["course_translation"] = {"lang": lang, "from": notebook.name}
    return built


def glossary(lang: str) -> list[tuple[str, str, list[str]]]:
    """(English term, the edition's term, renderings to avoid) from i18n/<lang>/glossary.tsv."""
    path = ROOT / "i18n" / lang / "glossary.tsv"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            english, term, avoid = (line.split("\t") + ["", ""])[:3]
            rows.append((english, term, [a for a in avoid.split(",") if a.strip()]))
    return rows


def check_glossary(notebook: Path, lang: str) -> list[Problem]:
    """A glossary term rendered another way than the glossary's is a problem."""
    rel = notebook.relative_to(ROOT).as_posix()
    problems = []
    terms = glossary(lang)
    for entry in load_translation(translation_file(notebook, lang)):
        text = str(entry.get("text", ""))
        for english, term, avoid in terms:
            for wrong in avoid:
                if wrong.strip() in text:
                    detail = f"{english!r} is {term!r} in this edition, not {wrong.strip()!r}"
                    problems.append(Problem(rel, str(entry.get("id")), "glossary", detail))
    return problems


def render(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def translated_notebooks(lang: str) -> list[Path]:
    return [p for p in english_notebooks() if translation_file(p, lang).is_file()]


def build(lang: str) -> list[Path]:
    """Write notebooks/<lang>/ for every notebook that has a translation file."""
    written = []
    for notebook in translated_notebooks(lang):
        target = edition_path(notebook, lang)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = render(build_notebook(notebook, lang))
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def stub(notebook: Path, lang: str) -> Path:
    """Add an entry (English text, hash, empty translation) for each untranslated cell."""
    import yaml

    path = translation_file(notebook, lang)
    entries = load_translation(path) if path.is_file() else []
    known = {e.get("id") for e in entries}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown" and cell["id"] not in known:
            english = _source(cell)
            entries.append({"id": cell["id"], "sha256": sha256(english), "en": english, "text": ""})
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"notebook": notebook.relative_to(ROOT).as_posix(), "cells": entries}
    path.write_text(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.translate", description=__doc__)
    parser.add_argument("command", choices=["build", "check", "stub"])
    parser.add_argument("notebook", nargs="?", help="for stub: the English notebook")
    parser.add_argument("--lang", default="zh-CN", choices=LANGUAGES)
    args = parser.parse_args(argv)
    if args.command == "stub":
        if not args.notebook:
            parser.error(
                "stub needs the English notebook, e.g. notebooks/00_setup_and_hub_tour.ipynb"
            )
        print(f"wrote {stub(Path(args.notebook).resolve(), args.lang)}")
        return 0
    if args.command == "build":
        written = build(args.lang)
        print(f"{len(written)} notebook(s) written under notebooks/{args.lang}/")
        return 0
    problems = [
        problem
        for notebook in translated_notebooks(args.lang)
        for problem in check_notebook(notebook, args.lang) + check_glossary(notebook, args.lang)
    ]
    for problem in problems:
        print(problem)
    print(
        f"{len(problems)} problem(s) in {len(translated_notebooks(args.lang))} translation file(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""What students get: the student copy (its README, lessons that ask for the solutions, no
dead links), the licence and notice, and the one-page handout (rendered and printed to PDF
in headless Chromium)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from tools import classroom

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("students") / "course"
    result = subprocess.run(
        [sys.executable, ROOT / "dev.py", "student-copy", target],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return target


def _markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def _markdown_texts(folder: Path) -> list[tuple[Path, str]]:
    """Every Markdown file and every notebook markdown cell under ``folder``.

    The READMEs in tools/templates/ are left out: their links are relative to the folder
    they are rendered into (the copy's README.md is checked instead).
    """
    files = [p for p in sorted(folder.rglob("*.md")) if "templates" not in p.parts]
    texts = [(p, p.read_text(encoding="utf-8")) for p in files]
    for notebook in sorted(folder.rglob("*.ipynb")):
        texts += [(notebook, text) for text in _markdown_cells(notebook)]
    return texts


def relative_links(text: str) -> list[str]:
    """The link targets in Markdown ``text`` that point to files (not web pages or anchors)."""
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks hold no links
    found = LINK.findall(text) + HTML_LINK.findall(text)
    return [
        unquote(t.split("#")[0])
        for t in found
        if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I) and not t.startswith("#")
    ]


def test_relative_links_are_found():
    text = "[a](notebooks/00.ipynb) ![i](img/x.png) [w](https://x.org) [h](#top) <a href='b.md'>"
    assert relative_links(text) == ["notebooks/00.ipynb", "img/x.png", "b.md"]


def test_every_relative_link_in_the_student_copy_resolves(copy):
    checked, dead = 0, []
    for path, text in _markdown_texts(copy):
        for target in relative_links(text):
            checked += 1
            if not (path.parent / target).exists():
                dead.append(f"{path.relative_to(copy)} -> {target}")
    assert not dead, dead
    assert checked >= 10, f"only {checked} links found: the link finder is broken"


def test_the_student_copy_has_the_student_readme(copy):
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert "setup --from .." in readme and "dev.py lab" in readme and "dev.py check" in readme
    assert "outputs/<lesson>/" in readme and "When something fails" in readme
    assert classroom.ASK_FOR_SOLUTIONS in readme
    for developer_only in ("dev.py test", "solutions/", "docs/teaching.md", "tests/"):
        assert developer_only not in readme, developer_only
    lessons = sorted(p.name for p in (copy / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert lessons and all(f"(notebooks/{name})" in readme for name in lessons)
    chinese = sorted(p.name for p in (copy / "notebooks" / "zh-CN").glob("[0-9][0-9]_*.ipynb"))
    assert chinese == lessons and "dev.py lab --lang zh-CN" in readme  # the zh-CN edition too
    assert not (copy / "notebooks" / "zh-CN" / "solutions").exists()
    for name in ("LICENSE", "NOTICE"):
        assert (copy / name).is_file(), name


def test_lessons_in_the_copy_ask_for_the_solutions(copy):
    for notebook in sorted((copy / "notebooks").rglob("*.ipynb")):
        original = ROOT / notebook.relative_to(copy)
        before, after = _markdown_cells(original), _markdown_cells(notebook)
        assert not [t for t in after if "solutions/" in t], notebook.name
        pointed = any("solutions/" in t for t in before)
        asked = any(
            classroom.ASK_FOR_SOLUTIONS in t or classroom.ASK_FOR_SOLUTIONS_ZH in t for t in after
        )
        assert asked == pointed, f"{notebook.name}: pointed to solutions {pointed}, asks {asked}"


def test_pointers_to_solutions_become_an_ask():
    text = (
        "Each exercise ends with a check.\nSolutions are in\n"
        "`solutions/03_pipelines_solutions.ipynb`.\n\nSee also [the key](solutions/x.ipynb)."
    )
    new = classroom.without_solution_links(text)
    assert "solutions/" not in new and new.count("Ask your teacher for the solutions") == 2
    assert new.startswith("Each exercise ends with a check.\nAsk your teacher")


def test_licence_is_apache_2_and_the_notice_credits_the_write_up():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence
    assert "END OF TERMS AND CONDITIONS" in licence and len(licence) > 10_000
    assert 'license = { text = "Apache-2.0" }' in (ROOT / "pyproject.toml").read_text(
        encoding="utf-8"
    )
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "chaplinthink" in notice and "https://www.cnblogs.com/bigdata1024/p/18704285" in notice


# --- the handout -----------------------------------------------------------------------------

HANDOUT = ROOT / "docs" / "handout.md"


def _readme_lessons() -> dict[str, tuple[str, str]]:
    """{NN: (title, time)} from README's lesson table (the time before the bracketed run)."""
    found = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"\d\d", cells[0]):
            title = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", cells[1])
            found[cells[0]] = (title, cells[-1].split("(")[0].strip())
    return found


def test_the_handout_lists_every_lesson_with_its_measured_time():
    handout = HANDOUT.read_text(encoding="utf-8")
    lessons = _readme_lessons()
    assert len(lessons) >= 10
    for number, (title, time) in lessons.items():
        assert re.search(rf"\| {number} \| {re.escape(title)} \| {re.escape(time)} \|", handout), (
            f"lesson {number} ({title}, {time}) is not in the handout as README has it"
        )
    for needed in ("py dev.py setup --from ..", "python3 dev.py lab", "Ask your teacher"):
        assert needed in handout, needed
    assert "FAST = True" in handout and "Restart Kernel and Run All Cells" in handout


def _printed_pages(handout: Path, browser, tmp_path: Path) -> tuple[str, int]:
    """The handout rendered to HTML, and the number of A4 pages Chromium prints it on."""
    import mistune

    html = mistune.create_markdown(plugins=["table"])(handout.read_text(encoding="utf-8"))
    style = (
        "body{font-family:sans-serif;font-size:10.5pt;line-height:1.3}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:1px 5px}"
        "h1{font-size:16pt}h2{font-size:12.5pt;margin:10px 0 4px}"
    )
    page = browser.new_page()
    page.set_content(f"<html><head><style>{style}</style></head><body>{html}</body></html>")
    pdf = tmp_path / f"{handout.stem}.pdf"
    page.pdf(
        path=str(pdf), format="A4", margin={k: "15mm" for k in ("top", "bottom", "left", "right")}
    )
    page.close()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    print(f"{handout.name}: {pages} A4 page(s), {pdf.stat().st_size} bytes")
    return html, pages


def test_the_handout_prints_on_one_page(browser, tmp_path):
    html, pages = _printed_pages(HANDOUT, browser, tmp_path)
    assert html.count("<table>") == 2 and "<h2>When a lesson fails</h2>" in html
    assert pages == 1


HANDOUT_ZH = ROOT / "docs" / "handout.zh-CN.md"


def test_the_chinese_handout_has_the_english_commands_lessons_and_times():
    english, chinese = (p.read_text(encoding="utf-8") for p in (HANDOUT, HANDOUT_ZH))
    commands = re.compile(r"`((?:py|python3) dev\.py [^`]+)`")
    assert commands.findall(chinese) == commands.findall(english)
    rows = re.compile(r"\| (\d\d) \| [^|]+ \| ~([\d.]+) ")
    assert rows.findall(chinese) == rows.findall(english)
    assert "FAST = True" in chinese and "解答请向老师索取" in chinese


def test_the_chinese_handout_prints_on_one_page(browser, tmp_path):
    html, pages = _printed_pages(HANDOUT_ZH, browser, tmp_path)
    assert html.count("<table>") == 2 and "<h2>某一课运行出错时</h2>" in html
    assert pages == 1

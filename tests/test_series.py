"""tools.series: runs notebooks in fresh kernels and leaves the caller's environment alone."""

from __future__ import annotations

import json
import os

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tools.series import format_table, run_series


def _notebook(folder, source: str):
    notebook = new_notebook(cells=[new_code_cell(source)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "probe.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_fast_series_sets_fast_mode_for_the_kernels_only(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTORIAL_FAST", raising=False)
    path = _notebook(tmp_path, "import os\nprint('FAST', os.environ.get('TUTORIAL_FAST'))")
    lines: list[str] = []
    results = run_series([path], tmp_path / "out", fast=True, html=False, log=lines.append)
    assert [r.status for r in results] == ["ok"]
    executed = json.loads(results[0].output.read_text(encoding="utf-8"))
    probe = next(c for c in executed["cells"] if "print" in "".join(c["source"]))
    printed = "".join(probe["outputs"][0]["text"])
    assert printed.strip() == "FAST 1"  # the kernel ran in fast mode
    assert "TUTORIAL_FAST" not in os.environ  # and the caller's environment is as it was
    assert "probe.ipynb" in format_table(results)


def test_a_failing_notebook_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_FAST", "0")
    path = _notebook(tmp_path, "raise ValueError('broken on purpose')")
    results = run_series([path], tmp_path / "out", fast=True, html=False, log=lambda _: None)
    assert results[0].status == "FAILED" and "broken on purpose" in results[0].error
    assert os.environ["TUTORIAL_FAST"] == "0"  # restored to its earlier value


def test_store_keeps_outputs_of_checked_cells_only(tmp_path, monkeypatch):
    from tools.checked_outputs import MARK, store

    monkeypatch.delenv("TUTORIAL_FAST", raising=False)
    notebook = new_notebook(
        cells=[
            new_code_cell(f"{MARK}\nimport os\nprint('FAST', os.environ.get('TUTORIAL_FAST'))"),
            new_code_cell("print('not kept')"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "checked.ipynb"
    nbformat.write(notebook, str(path))
    assert store(path) == 1
    checked, plain = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert "".join(checked["outputs"][0]["text"]).strip() == "FAST 1"  # run in fast mode
    assert plain["outputs"] == [] and "TUTORIAL_FAST" not in os.environ


def test_series_log_is_a_few_lines_a_table_and_no_kernel_warnings(tmp_path):
    """benchmarks/series.py (tools.series) into a pipe, as in CI or a log file: two lines per
    notebook, the table with the load average and a total, and none of the kernel's own
    start-up warnings ("Kernel is running over TCP without encryption")."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    first = _notebook(tmp_path, "print('one')").rename(tmp_path / "first.ipynb")
    second = _notebook(tmp_path, "print(sum(range(10)))").rename(tmp_path / "second.ipynb")
    result = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "series.py"), str(first), str(second)]
        + ["--output", str(tmp_path / "out")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "without encryption" not in log and "WARNING" not in log, log
    lines = log.strip().splitlines()
    assert len(lines) <= 14, log  # 2 per notebook, a 6-line table, 2 load lines, the folder
    rows = {}
    for line in lines:
        match = re.fullmatch(r"(\S+\.ipynb)\s+ok\s+([\d.]+)\s+(\d+)\s+([\d.]+)", line)
        if match:
            rows[match.group(1)] = [float(v) for v in match.groups()[1:]]
    assert sorted(rows) == ["first.ipynb", "second.ipynb"], log
    assert all(seconds > 0 and peak_mb > 10 for seconds, peak_mb, _ in rows.values())
    total = next(line for line in lines if line.startswith("total"))
    assert abs(float(total.split()[2]) - sum(r[0] for r in rows.values())) <= 0.15
    assert sum(line.startswith("load average (1, 5, 15 min)") for line in lines) == 2
    assert not list((tmp_path / "out").rglob("*.html"))  # the benchmark writes no HTML


def test_table_without_a_load_average_says_so(monkeypatch):
    from tools import series

    monkeypatch.delattr(series.os, "getloadavg", raising=False)  # as on Windows
    load = series.load_average()  # psutil's estimate
    assert load is not None and len(load) == 3
    row = series.RunResult("a.ipynb", "ok", 1.25, 100.0, load=None)
    bad = series.RunResult("b.ipynb", "FAILED", 2.0, 300.0, error="boom", load=0.5)
    table = format_table([row, bad]).splitlines()
    assert table[2].split() == ["a.ipynb", "ok", "1.2", "100", "n/a"]
    assert table[3].split() == ["b.ipynb", "FAILED", "2.0", "300", "0.50"]
    assert table[5].split() == ["total", "1", "bad", "3.2", "300"] and table[6] == "b.ipynb: boom"


def test_each_edition_lists_its_lessons_then_its_solutions():
    from tools.series import lesson_notebooks

    english, chinese = lesson_notebooks(lang="en"), lesson_notebooks(lang="zh-CN")
    assert [p.name for p in chinese] == [p.name for p in english]  # one zh-CN copy of each
    assert all(p.parent.name == "zh-CN" or p.parent.parent.name == "zh-CN" for p in chinese)
    assert lesson_notebooks(lang="all") == english + chinese
    assert lesson_notebooks(False, "zh-CN") == [p for p in chinese if "solutions" not in p.parts]
    try:
        lesson_notebooks(lang="fr")
    except ValueError as error:
        assert "en, zh-CN or all" in str(error)
    else:
        raise AssertionError("an unknown edition must be refused")


def test_the_editions_run_into_folders_of_their_own(tmp_path):
    from pathlib import Path

    from tools.series import lesson_notebooks, output_subfolder

    folders = {output_subfolder(p).as_posix() for p in lesson_notebooks(lang="all")}
    assert folders == {"notebooks", "solutions", "zh-CN", "zh-CN/solutions"}
    assert output_subfolder(tmp_path / "x" / "a.ipynb") == Path("x")  # a notebook elsewhere


def test_index_lists_both_editions_with_their_own_headings(tmp_path):
    from tools.html_export import write_index

    for folder, title in [
        ("notebooks", "# 01 · The maths of attention"),
        ("solutions", "# 01 · Solutions"),
        ("zh-CN", "# 01 · 注意力的数学"),
        ("zh-CN/solutions", "# 01 · 练习解答"),
    ]:
        (tmp_path / folder).mkdir(parents=True)
        nbformat.write(
            new_notebook(cells=[nbformat.v4.new_markdown_cell(title)]),
            tmp_path / folder / "01.ipynb",
        )
        (tmp_path / folder / "01.html").write_text("<html></html>", encoding="utf-8")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    headings = ["Lessons", "Solutions", "课程（简体中文版）", "解答（简体中文版）"]
    assert [page.index(f"<h2>{h}</h2>") for h in headings] == sorted(
        page.index(f"<h2>{h}</h2>") for h in headings
    )
    assert 'href="zh-CN/01.html">01 · 注意力的数学<' in page
    assert 'href="zh-CN/solutions/01.html">01 · 练习解答<' in page


def test_a_zh_cn_lesson_exports_to_html_in_chinese(tmp_path):
    from pathlib import Path

    from tools.html_export import export_html

    lesson = (
        Path(__file__).resolve().parents[1] / "notebooks" / "zh-CN" / "01_attention_maths.ipynb"
    )
    page = export_html(lesson, tmp_path / "01.html").read_text(encoding="utf-8")
    assert "注意力的数学" in page and "自注意力（self-attention）" in page


def test_a_series_two_at_a_time_reports_in_the_notebooks_order(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTORIAL_FAST", raising=False)
    # The first notebook cannot end before the series has logged the second one's end:
    # it waits for a file the log writes then, so kernel start-up times cannot reorder them.
    signal = tmp_path / "quick_finished"
    wait = (
        "import pathlib, time\n"
        f"signal = pathlib.Path({str(signal)!r})\n"
        "deadline = time.monotonic() + 120\n"
        "while not signal.exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "assert signal.exists(), 'the quick notebook never finished'\n"
        "print('done')"
    )
    paths = []
    for name, source in (("01_slow.ipynb", wait), ("02_quick.ipynb", "print('done')")):
        folder = tmp_path / name[:2]
        folder.mkdir()
        path = _notebook(folder, source)
        paths.append(path.rename(folder / name))
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if "02_quick.ipynb: ok in " in line:
            signal.touch()

    results = run_series(paths, tmp_path / "out", html=False, log=log, jobs=2)
    assert [r.notebook for r in results] == ["01_slow.ipynb", "02_quick.ipynb"]
    assert [r.status for r in results] == ["ok", "ok"]
    finished = [line for line in lines if " ok in " in line]
    assert "02_quick.ipynb" in finished[0]  # it ended first, beside the slower one
    assert any("2 notebooks at a time" in line for line in lines)
    assert any(line.startswith("wall time") and "(2 at a time)" in line for line in lines)

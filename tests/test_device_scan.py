"""Unit tests of the static device scan in tools/device_scan.py (its pieces, its notebook reader
and its command line); tests/test_device_safety.py holds the cases it must flag or accept."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import device_scan as scan  # noqa: E402


def _expr(code: str) -> ast.expr:
    return ast.parse(code, mode="eval").body


def _kinds(*lines: str) -> dict[str, str]:
    """What the scanner knows about each name after reading ``lines`` as one cell."""
    scanner = scan.Scanner("<test>")
    scanner.scan_cell(0, "c0", "\n".join(lines))
    return dict(scanner.env)


@pytest.mark.parametrize(
    ("code", "dotted", "root"),
    [
        ("torch.nn.functional.softmax", "torch.nn.functional.softmax", "torch"),
        ("model", "model", "model"),
        ("model(x).logits", "", "model"),  # a call in the chain: no dotted name
        ("batch['ids'].to", "", "batch"),
    ],
)
def test_dotted_names_and_roots(code, dotted, root):
    node = _expr(code)
    assert scan._dotted(node) == dotted
    assert scan._root_name(node) == root


@pytest.mark.parametrize(
    ("call", "is_dtype"),
    [
        ("x.to(torch.float32)", True),
        ("x.to(h.dtype)", True),
        ("x.to(torch.bfloat16)", True),
        ("x.to(model.device)", False),
        ('x.to("cuda")', False),
    ],
)
def test_a_dtype_change_is_not_a_move(call, is_dtype):
    node = _expr(call)
    assert scan._is_dtype(scan._move_target(node)) is is_dtype


def test_move_target_reads_the_device_keyword_first():
    node = _expr("x.to(torch.float16, device=d)")
    assert ast.unparse(scan._move_target(node)) == "d"
    assert scan._move_target(_expr("x.cuda()")) is None
    assert scan._is_cpu(_expr('"cpu"')) and not scan._is_cpu(_expr('"cuda"'))


def test_placement_follows_moves_tokenizers_and_factories():
    env = _kinds(
        "tokenizer = AutoTokenizer.from_pretrained(path)",
        "model = AutoModel.from_pretrained(path)",
        'batch = tokenizer("a", return_tensors="pt")',
        "ids = tokenizer('a')",  # lists of ids: no tensors
        "noise = torch.randn(2, 3)",
        "here = torch.zeros(2, device=model.device)",
    )
    assert env["tokenizer"] == scan.TOKENIZER
    assert env["model"] == scan.CPU_PRETRAINED
    assert env["batch"] == scan.CPU_BATCH
    assert "ids" not in env
    assert env["noise"] == scan.CPU
    assert env["here"] == scan.DEV
    moved = _kinds(
        "model = AutoModel.from_pretrained(path)",
        'batch = tokenizer("a", return_tensors="pt")',
        "model.to(tu.device())",  # Module.to works in place
        "batch.to(model.device)",  # and so does BatchEncoding.to
        "out = model(**batch)",
        "back = out.logits.cpu()",
    )
    assert moved["model"] == scan.DEV_MODEL
    assert moved["batch"] == scan.DEV
    assert moved["out"] == scan.DEV
    assert moved["back"] == scan.CPU


def test_tuple_unpacking_keeps_each_element_placement():
    env = _kinds(
        "m = AutoModel.from_pretrained(p).to(tu.device())",
        "a, b = torch.ones(1).to(m.device), torch.ones(1)",
        "out, weights = m(a)",
        "fresh, info = AutoModel.from_pretrained(p, output_loading_info=True)",
    )
    assert (env["a"], env["b"]) == (scan.DEV, scan.CPU)
    assert env["out"] == env["weights"] == scan.DEV
    assert env["fresh"] == scan.CPU_PRETRAINED and "info" not in env


def test_a_function_is_read_at_its_call_with_the_arguments_placement():
    cells = [
        (0, "c0", "def run(model, x):\n    return model(x)\n"),
        (1, "c1", "m = nn.Linear(2, 2).to(tu.device())\ny = run(m, torch.ones(1, 2))\n"),
    ]
    findings = scan.scan_source(cells, "nb")
    assert len(findings) == 1
    finding = findings[0]
    # reported where the body is, with the caller's placement
    assert (finding.cell, finding.cell_id, finding.line) == (0, "c0", 2)
    assert "is on the CPU" in finding.message and finding.code == "return model(x)"


def test_a_function_never_called_is_read_with_its_model_on_the_device():
    findings = scan.scan_source(
        [(0, "c0", 'def answer(model):\n    return model(**tokenizer("a", return_tensors="pt"))\n')]
    )
    assert [f.line for f in findings] == [2]


def test_findings_are_reported_once_and_printed_with_their_place():
    cells = [
        (3, "abc", 'def load(name):\n    return pipeline("fill-mask", model=name)\n'),
        (4, "abd", 'first = load("a")\nsecond = load("b")\n'),  # the body is read twice
    ]
    findings = scan.scan_source(cells, "lesson.ipynb")
    assert len(findings) == 1
    text = str(findings[0])
    assert text.startswith("lesson.ipynb cell 3 (id abc) line 2: `pipeline(...)` without `device=`")
    assert text.endswith('\n    return pipeline("fill-mask", model=name)')


def test_magics_and_syntax_errors_are_skipped():
    cells = [
        (0, "c0", "%time x = 1\n!pip list\nnet = nn.Linear(2, 2)\n"),
        (1, "c1", "def broken(:\n"),
        (2, "c2", "net(torch.ones(1, 2, device=tu.device()))\n"),
    ]
    findings = scan.scan_source(cells)
    assert [(f.cell, f.line) for f in findings] == [(2, 1)]


def _notebook(path: Path, *sources: str, markdown: str = "# title") -> Path:
    cells = [{"cell_type": "markdown", "id": "md", "metadata": {}, "source": [markdown]}]
    cells += [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": [s], "outputs": []}
        for i, s in enumerate(sources)
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}), encoding="utf-8")
    return path


def test_scan_notebook_reads_code_cells_by_index_and_id(tmp_path):
    path = _notebook(
        tmp_path / "n.ipynb",
        "x = torch.randn(2, 3).to(tu.device())",
        "x.numpy()",
        markdown="x.numpy()  # prose is not code",
    )
    findings = scan.scan_notebook(path)
    assert [(f.cell, f.cell_id) for f in findings] == [(2, "c1")]  # index among all cells
    assert findings[0].notebook == str(path)  # outside the project: the path as given


def test_the_command_line_prints_findings_and_exits_non_zero(tmp_path, capsys):
    bad = _notebook(tmp_path / "bad.ipynb", 'p = pipeline("fill-mask", model=m)')
    good = _notebook(tmp_path / "good.ipynb", 'p = pipeline("fill-mask", model=m, device=d)')
    assert scan.main([str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    assert "bad.ipynb cell 1" in out and "1 finding(s) in 2 notebook(s)" in out
    assert scan.main([str(good)]) == 0
    assert "0 finding(s) in 1 notebook(s)" in capsys.readouterr().out


def test_an_adapter_loaded_onto_a_model_stays_where_that_model_is():
    env = _kinds(
        "base = AutoModel.from_pretrained(path).to(tu.device())",
        "adapted = PeftModel.from_pretrained(base, folder)",
        "cpu_base = AutoModel.from_pretrained(path)",
        "cpu_adapted = PeftModel.from_pretrained(cpu_base, folder)",
        "moved = make().to(tu.device())",  # a notebook function's model, then moved
        "moved_adapted = PeftModel.from_pretrained(moved, folder)",
    )
    assert env["moved_adapted"] == scan.DEV_MODEL
    assert env["adapted"] == scan.DEV_MODEL
    assert env["cpu_adapted"] == scan.CPU_PRETRAINED

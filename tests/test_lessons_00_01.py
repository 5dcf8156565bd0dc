"""Lessons 00 and 01: the offline reason printed once per session, the Hub tour, notebook conventions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tutorial_utils import hub_tour

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [
    "notebooks/00_setup_and_hub_tour.ipynb",
    "notebooks/01_attention_maths.ipynb",
    "notebooks/solutions/00_setup_and_hub_tour_solutions.ipynb",
    "notebooks/solutions/01_attention_maths_solutions.ipynb",
]


def _closed_port() -> int:
    """A local port nothing listens on: a request to it fails at once with a URLError."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in a fresh Python process (one session) and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _unreachable_hub_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(name, None)
    env["TUTORIAL_OFFLINE"] = "0"  # no class setting: the Hub is asked, and does not answer
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{_closed_port()}"
    return env


@pytest.mark.parametrize(
    "calls",
    [
        "tu.setup(seed=0); tu.checkpoint('encoder'); tu.checkpoint('embedder'); tu.setup(seed=0)",
        "tu.checkpoint('encoder'); tu.setup(seed=0); tu.checkpoint('embedder')",
    ],
    ids=["setup first", "checkpoint first"],
)
def test_the_offline_reason_is_printed_once_per_session(calls):
    out = _session(f"import tutorial_utils as tu; {calls}", _unreachable_hub_env())
    assert out.count("URLError") == 1, out  # the unreachable Hub's reason, once
    assert out.count("hub offline") == calls.count("tu.setup"), out  # every setup line: the mode
    assert out.count("offline:") == calls.count("tu.checkpoint"), out  # every checkpoint line


def test_a_new_reason_in_the_same_session_is_printed_too():
    code = (
        "import tutorial_utils as tu\n"
        "from tutorial_utils import hub_mode\n"
        "tu.setup(seed=0)\n"
        "hub_mode._decision = (False, 'a second reason')\n"
        "tu.setup(seed=0); tu.setup(seed=0)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", TUTORIAL_OFFLINE="0")
    out = _session(code, env)
    assert out.count("HF_HUB_OFFLINE=1 is set") == 1, out
    assert out.count("a second reason") == 1, out


# --- the Hub tour -------------------------------------------------------------------------


def test_card_sections_never_split_inside_a_code_block():
    body = "# Title\nintro\n```python\n# not a heading\nx = 1\n```\n## Uses\ntext\n"
    sections = hub_tour.card_sections(body)
    assert [title for title, _ in sections] == ["Title", "Uses"]
    assert "# not a heading" in sections[0][1] and hub_tour.fence_lines(sections[0][1]) == 2
    with pytest.raises(ValueError, match="Uses"):
        hub_tour.card_excerpt(body, ["Limitations"])


def test_the_card_excerpt_of_lesson_00_is_whole_and_says_what_it_promises():
    from tutorial_utils import integrity

    card = (integrity.packaged_file(integrity.MINILM_WEIGHTS).parent / "README.md").read_text(
        encoding="utf-8"
    )
    body = card.split("---", 2)[2]
    for _, text in hub_tour.card_sections(body):
        assert hub_tour.fence_lines(text) % 2 == 0, text[:200]
    excerpt = hub_tour.card_excerpt(body, ["all-MiniLM-L6-v2", "Background", "Intended uses"])
    assert hub_tour.fence_lines(excerpt) == 0
    assert "fine-tuned" in excerpt  # what it was trained on (Background)
    assert "truncated" in excerpt  # its limit (Intended uses)


def test_task_table_notes_counts_and_families():
    rows = hub_tour.task_families()
    by_task = {row["task"]: row for row in rows}
    for row in rows:
        hub_only = row["pipeline class"] == hub_tour.NO_PIPELINE
        assert (row["note"] == hub_tour.HUB_ONLY_NOTE) is hub_only, row
    for task in hub_tour.TASK_NOTES:
        if task in by_task:  # a later transformers may drop a task: its note then goes unused
            assert by_task[task]["note"] == hub_tour.TASK_NOTES[task]
    counts = hub_tour.task_counts()
    assert sum(sum(c.values()) for c in counts.values()) == len(rows)
    for family in ("Tabular", "Reinforcement Learning"):
        assert counts[family]["pipeline"] == 0 and counts[family]["Hub only"] > 0
    assert all(counts[f]["pipeline"] > 0 for f in hub_tour.FAMILIES[:4])
    differences = {row["task"]: row for row in hub_tour.family_differences()}
    assert differences["feature-extraction"]["write-up"] == "Multimodal"
    assert (
        differences["feature-extraction"]["this table"] == by_task["feature-extraction"]["family"]
    )
    assert by_task["feature-extraction"]["note"], (
        "the row says why it is not where the write-up put it"
    )


def test_which_online_models_are_the_writeups():
    from tutorial_utils import loading

    assert hub_tour.writeup_section_of("gpt2") == "1.3.1"
    assert hub_tour.writeup_section_of("THUDM/chatglm2-6b") == "2.3.2"
    ours = {
        row["role"]: hub_tour.writeup_section_of(row["online"]) for row in loading.roles_table()
    }
    assert ours["encoder"] != "not the write-up's model"
    assert ours["chat"] == "not the write-up's model"


# --- notebook conventions -----------------------------------------------------------------


def _cells(path: str) -> list[dict]:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_parameters_cell_and_figures_follow_the_conventions(path):
    cells = _cells(path)
    parameters = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1
    source = "".join(parameters[0]["source"])
    assert source.startswith("import tutorial_utils as tu\n") and "FAST = tu.fast_mode()" in source
    for cell in cells:
        code = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        assert "pyplot" not in code and "plt." not in code and "display(fig" not in code, code
        if "Figure(" in code or "fig = tu.plotting" in code:
            assert code.rstrip().splitlines()[-1] == "fig", code


@pytest.mark.parametrize("path", NOTEBOOKS[2:])
def test_solutions_state_their_results(path):
    for cell in _cells(path):
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]).lower()
            assert "(printed)" not in text and "see the values above" not in text, text
            assert "the table under the plot" not in text and "values above" not in text, text

"""Execute every lesson and solution notebook in a fresh kernel, in the background.

papermill runs each notebook with ``FAST=True`` (small sizes); lesson 06 runs a second time
with the sentence-pair task, smaller still (:data:`EXTRA_RUNS`). The runs start as soon as
the tests are collected, in conftest's background lane: ``COURSE_TEST_JOBS`` at a time
(default 2; 1 keeps one at a time, for little memory), each kernel on half the cores
(tools/notebook_pool.py), at a lower priority (:data:`NICENESS`), so that they take the CPU
time the other tests leave and run at full speed once those are done. Each test waits for
its own run.
The outputs of deterministic cells that the repository keeps (``# NBVAL_CHECK_OUTPUT``) are
compared with the same run's, as nbval's ``--nbval-lax`` would compare them, without
executing those notebooks a second time. Executed copies go to ``outputs/test-runs/``; a
failure names the notebook and the cell error, and a notebook whose stderr announces a
deprecation fails too. A few tests read what a run wrote (:data:`READS_RUN`): lesson 09's
two-process training of scripts/finetune_sentiment.py is checked on its own run.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import Future

import pytest

from tools.checked_outputs import is_checked
from tools.notebook_pool import Job, longest_first, run_jobs
from tools.series import lesson_notebooks, run_notebook
from tutorial_utils.paths import project_root

ROOT = project_root()
RUNS = ROOT / "outputs" / "test-runs"
NOTEBOOKS = lesson_notebooks(include_solutions=True)
ZH_RUN = ROOT / "notebooks" / "zh-CN" / "01_attention_maths.ipynb"  # one zh lesson, whole
# Second runs with other parameters: what the run is (its test id), and the sizes it runs with.
# Lesson 06's own FAST run measures the training; the pair task's run checks that every cell
# runs on pairs, so it trains 10 steps on 160 pairs.
EXTRA_RUNS = {
    "06_fine_tuning_with_trainer.ipynb": [
        (
            {"TASK": "pairs"},
            {"TRAIN_SIZE": 160, "EVAL_SIZE": 64, "MAX_STEPS": 10, "FROZEN_TRAIN_SIZE": 64},
        )
    ]
}
_LESSON_10 = [
    "tokens per character",
    "entity F1 (seqeval)",
    "window logistic regression",
    "bert-base-chinese",  # zh-fill-mask is online-only, and says which model it needs
    "share of Chinese characters",
]
# What an executed copy must print besides running without error (one run serves both).
PRINTS = {
    "10_chinese_text.ipynb": [*_LESSON_10, "10.unk_share: not attempted yet"],
    # the zh-CN edition runs whole once: its own cell, and the course's messages in Chinese
    "zh-CN/01_attention_maths.ipynb": ["| 设备 ", "Hub 离线", "尚未作答"],
    "solutions/10_chinese_text_solutions.ipynb": [
        "[ok] 10.unk_share: correct!",
        "[ok] 10.to_bio: correct!",
        ": 0 differ from words_to_bio",  # the whole corpus, not only the check's examples
    ],
}


# Tests further down that read what a notebook run wrote, and the run each one reads: the
# lane starts that run for them even when its own test is not selected.
LESSON_09 = ROOT / "notebooks" / "09_lora_and_scaling_out.ipynb"
READS_RUN = {
    "test_lesson09_script_trains_as_two_processes": (LESSON_09, {}),
    "test_lesson09_script_adapter_names_its_base_model_by_hub_id": (LESSON_09, {}),
}


def _key(path) -> str:
    return path.relative_to(ROOT / "notebooks").as_posix()


def _cases():
    for path in [*NOTEBOOKS, ZH_RUN]:
        yield pytest.param(path, {}, id=path.relative_to(ROOT / "notebooks").as_posix())
        for extra, _ in EXTRA_RUNS.get(path.name, []):
            label = ",".join(f"{k}={v}" for k, v in extra.items())
            yield pytest.param(path, extra, id=f"{path.name}[{label}]")


LESSON_OUTPUTS = RUNS / "lesson-outputs"  # each lesson writes its outputs into a folder here
KERNEL_ENV = {"TUTORIAL_FAST": "1", "TUTORIAL_OUTPUT_DIR": str(LESSON_OUTPUTS)}
JOBS = os.environ.get("COURSE_TEST_JOBS", "2")
if not JOBS.isdigit() or int(JOBS) < 1:
    raise ValueError(f"COURSE_TEST_JOBS must be a whole number of 1 or more, not {JOBS!r}")
JOBS = int(JOBS)


def _job(path, extra: dict) -> Job:
    suffix = "-".join(f"{k}-{v}" for k, v in extra.items())
    folder = RUNS / "papermill" / path.parent.name / (suffix or "default")
    sizes = next((s for e, s in EXTRA_RUNS.get(path.name, []) if e == extra), {})
    return Job(path, folder, {"FAST": True, **extra, **sizes}, KERNEL_ENV, html=False)


# The kernels' priority, lowered (Unix; 19 is the lowest): beside the other tests, which keep
# theirs, they get little more than the CPU time those leave idle.
NICENESS = 19
_RUNS: dict = {}  # (path, extra items) -> the Future of that run, once the lane started them


def _key_of(path, extra: dict) -> tuple:
    return (path, tuple(extra.items()))


def start_background(lane, items) -> None:
    """Start the selected notebook runs in conftest's background lane, ``JOBS`` at a time at
    a lower priority, the longest lessons first."""
    wanted = []
    for item in items:
        name = getattr(item, "originalname", "")
        if name == "test_notebook_runs_with_papermill":
            run = (item.callspec.params["path"], item.callspec.params["extra"])
        elif name in READS_RUN:
            run = READS_RUN[name]
        else:
            continue
        if run not in wanted:
            wanted.append(run)
    if not wanted:
        return
    jobs = [_job(path, extra) for path, extra in wanted]
    futures = [Future() for _ in jobs]
    _RUNS.update(
        {_key_of(path, extra): f for (path, extra), f in zip(wanted, futures, strict=True)}
    )
    # taken here, before any test can change this process's environment or folder
    lane.submit(_run_all, jobs, futures, dict(os.environ), lane.stopping)


def _run_all(jobs: list[Job], futures: list[Future], environment: dict, stopping) -> None:
    runs = run_jobs(
        run_notebook,
        jobs,
        JOBS,
        order=longest_first(jobs) if JOBS > 1 else None,
        environment=environment,
        cwd=ROOT,
        niceness=NICENESS,
    )
    try:
        for index, outcome in runs:
            futures[index].set_result(outcome)
            if stopping.is_set():
                break
    except BaseException as error:  # every test still waiting reports it
        for future in futures:
            if not future.done():
                future.set_exception(error)
        raise
    finally:
        runs.close()
    for future in futures:
        if not future.done():
            future.set_exception(RuntimeError("the test session ended before this notebook ran"))


@pytest.fixture(scope="module")
def notebook_run():
    """``notebook_run(path, extra)``: the result of that run, which conftest's background
    lane started once the tests were collected."""

    def result(path, extra: dict):
        return _RUNS[_key_of(path, extra)].result()

    return result


def test_every_lesson_has_a_solution_notebook():
    lessons = {p.name.split("_")[0] for p in lesson_notebooks(include_solutions=False)}
    solutions = {p.name.split("_")[0] for p in NOTEBOOKS if p.parent.name == "solutions"}
    assert lessons and lessons == solutions


@pytest.mark.notebook
@pytest.mark.parametrize("path, extra", list(_cases()))
def test_notebook_runs_with_papermill(path, extra, notebook_run):
    result = notebook_run(path, extra)
    print(f"{path.name}: {result.status} in {result.seconds:.1f} s, peak {result.peak_mb:.0f} MB")
    assert result.status == "ok", f"{path.name} failed: {result.error} (see {result.output})"
    notices = _deprecation_notices(result.output)
    assert not notices, f"{path.name} uses a deprecated API: {notices} (see {result.output})"
    stored = json.loads(path.read_text(encoding="utf-8"))
    changed = checked_output_mismatches(
        stored, json.loads(result.output.read_text(encoding="utf-8"))
    )
    assert not changed, f"{path.name}: checked outputs changed (store them again?): {changed}"
    printed = _printed(result.output)
    missing = [text for text in PRINTS.get(_key(path), []) if text not in printed]
    assert not missing, f"{path.name} did not print {missing} (see {result.output})"


@pytest.fixture(scope="module")
def lesson09_script_run(notebook_run):
    """The folder and report of the script's two-process training in lesson 09's run
    (`accelerate launch --multi_gpu --num_processes 2`, fast sizes)."""
    run = notebook_run(LESSON_09, {})
    assert run.status == "ok", f"lesson 09 failed, so its script run is missing: {run.error}"
    folder = LESSON_OUTPUTS / LESSON_09.stem / "script-2-processes"
    return folder, json.loads((folder / "results.json").read_text(encoding="utf-8"))


@pytest.mark.notebook
def test_lesson09_script_trains_as_two_processes(lesson09_script_run):
    folder, results = lesson09_script_run
    assert results["world_size"] == 2 and results["threads_per_process"] == 1
    assert results["per_device_batch"] * 2 == results["effective_batch"]
    assert results["average_tokens_across_devices"] is False
    assert results["test_examples"] == 256  # lesson 09's TEST_SIZE with FAST
    accuracy = results["held_out_accuracy"]
    assert accuracy >= 0.65, f"held-out accuracy {accuracy} barely beats chance (0.5)"
    assert (folder / "model" / "adapter_model.safetensors").is_file()


@pytest.mark.notebook
def test_lesson09_script_adapter_names_its_base_model_by_hub_id(lesson09_script_run):
    import tutorial_utils as tu

    folder, _ = lesson09_script_run
    config = json.loads((folder / "model" / "adapter_config.json").read_text(encoding="utf-8"))
    base = config["base_model_name_or_path"]
    assert not os.path.isabs(base), f"an absolute path of this machine: {base}"
    assert base == tu.lora.base_model_name(tu.checkpoint("embedder"))
    assert base == "sentence-transformers/all-MiniLM-L6-v2"  # online and offline alike


def _printed(executed) -> str:
    """Everything the cells of an executed notebook printed (text streams)."""
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


def _deprecation_notices(executed) -> list[str]:
    """Lines a notebook wrote to stderr (warnings, library logs) that announce a deprecation."""
    found = []
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found += [
                    line.strip()
                    for line in "".join(output["text"]).splitlines()
                    if re.search(r"deprecat|FutureWarning", line, re.IGNORECASE)
                ]
    return found


def _has_checked_outputs(path) -> bool:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return any(is_checked(c) and c.get("outputs") for c in cells)


CHECKED = [p for p in NOTEBOOKS if _has_checked_outputs(p)]


def _shown(output: dict) -> tuple[str, str]:
    """What a learner reads of one output: its stream or plain-text result, line ends trimmed."""
    if output.get("output_type") == "stream":
        kind, text = output.get("name", "stdout"), output.get("text", "")
    else:
        kind, text = "result", output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    return kind, "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def checked_output_mismatches(stored: dict, executed: dict) -> list[str]:
    """The ``# NBVAL_CHECK_OUTPUT`` cells of ``stored`` whose outputs the run changed.

    The check nbval's ``--nbval-lax`` makes, read from the series run itself instead of a
    second execution: streams and plain-text results must match, images are not compared.
    """
    ran = {c.get("id"): c for c in executed["cells"]}
    problems = []
    for cell in stored["cells"]:
        if not (is_checked(cell) and cell.get("outputs")):
            continue
        if cell.get("id") not in ran:
            problems.append(f"cell {cell.get('id')}: not in the executed copy")
            continue
        keep = ("stream", "execute_result", "display_data")
        want = [_shown(o) for o in cell["outputs"] if o.get("output_type") in keep]
        got = [
            _shown(o) for o in ran[cell["id"]].get("outputs", []) if o.get("output_type") in keep
        ]
        if want != got:
            problems.append(f"cell {cell['id']}: stored {want!r}, this run printed {got!r}")
    return problems


def test_deprecation_scan_reads_stderr_not_the_data(tmp_path):
    def stream(name, text):
        return {"output_type": "stream", "name": name, "text": [text]}

    executed = tmp_path / "run.ipynb"
    cells = [
        {
            "cell_type": "code",
            "source": [],
            "outputs": [stream("stdout", "a self-deprecating joke")],
        },
        {
            "cell_type": "code",
            "source": [],
            "outputs": [stream("stderr", "x.py:3: FutureWarning: `a` is deprecated\n  warn()\n")],
        },
    ]
    executed.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    assert _deprecation_notices(executed) == ["x.py:3: FutureWarning: `a` is deprecated"]


def test_checked_outputs_catch_a_changed_line():
    cell = {
        "cell_type": "code",
        "id": "c1",
        "source": ["# NBVAL_CHECK_OUTPUT\n", "print(1)"],
        "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1  \n"]}],
    }
    stored = {"cells": [cell, {"cell_type": "code", "id": "c2", "source": ["x"], "outputs": []}]}
    same = {
        "cells": [{**cell, "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}]
    }
    assert checked_output_mismatches(stored, same) == []
    changed = {
        "cells": [{**cell, "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}]}]
    }
    assert (
        checked_output_mismatches(stored, changed)
        and "c1" in checked_output_mismatches(stored, changed)[0]
    )
    assert "not in the executed copy" in checked_output_mismatches(stored, {"cells": []})[0]
    assert CHECKED, "no notebook keeps checked outputs any more"

"""Claims of lesson 09 that depend on other files, read from the notebooks themselves.

* The `TrainingArguments` keywords that lesson 09 says are "exactly lesson 06's" are the same
  in both notebooks (literals, or parameters with the same value in the default and the fast
  run), so the claim cannot go stale when lesson 06 changes.
* The `sample()` helper lives once: lesson 06 builds it in view, `tu.data.sample` is the same
  function, and no other lesson or script keeps a copy.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tutorial_utils.paths import project_root

ROOT = project_root()
LESSON_06 = ROOT / "notebooks" / "06_fine_tuning_with_trainer.ipynb"
LESSON_09 = ROOT / "notebooks" / "09_lora_and_scaling_out.ipynb"
CLAIM = "exactly lesson 06's"
UNRESOLVED = object()


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(path: Path) -> list[tuple[dict, ast.Module]]:
    """(cell, syntax tree) of every code cell; IPython magics are blanked out first."""
    found = []
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            source = re.sub(r"^\s*[%!].*$", "", "".join(cell["source"]), flags=re.M)
            found.append((cell, ast.parse(source)))
    return found


def _parameters(path: Path, fast: bool) -> dict[str, object]:
    """The parameters cell's plain assignments, evaluated as that mode would."""
    values: dict[str, object] = {"FAST": fast}
    for cell, tree in _code(path):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id != "FAST":
                    expression = compile(ast.Expression(node.value), "<parameters>", "eval")
                    try:
                        values[target.id] = eval(expression, {"__builtins__": {}}, dict(values))
                    except Exception:  # noqa: BLE001 - a value computed at run time
                        values[target.id] = UNRESOLVED
    return values


def _training_arguments(path: Path) -> dict[str, ast.expr]:
    """Keywords of the lesson's first `TrainingArguments(...)` call (not an exercise's)."""
    for _cell, tree in _code(path):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "TrainingArguments"
            ):
                return {k.arg: k.value for k in node.keywords if k.arg is not None}
    raise AssertionError(f"{path.name} calls no TrainingArguments(...)")


def _value(expression: ast.expr, parameters: dict[str, object]) -> object:
    """A literal's value, a parameter's value, else the expression's source text."""
    try:
        return ast.literal_eval(expression)
    except ValueError:
        pass
    if isinstance(expression, ast.Name) and expression.id in parameters:
        return parameters[expression.id]
    return ast.unparse(expression)


def _claimed_keywords() -> list[str]:
    from transformers import TrainingArguments

    fields = set(TrainingArguments.__dataclass_fields__)
    claims = [
        "".join(cell["source"])
        for cell in _cells(LESSON_09)
        if cell["cell_type"] == "markdown" and CLAIM in "".join(cell["source"])
    ]
    assert len(claims) == 1, f"lesson 09 should say {CLAIM!r} in one markdown cell"
    return [name for name in re.findall(r"`(\w+)`", claims[0]) if name in fields]


def test_lesson_09_names_the_keywords_it_shares_with_lesson_06():
    named = _claimed_keywords()
    assert len(named) >= 6, f"the claim names too few TrainingArguments keywords: {named}"
    assert len(named) == len(set(named))


@pytest.mark.parametrize("fast", [False, True], ids=["default", "fast"])
def test_keywords_called_exactly_lesson_06s_are_lesson_06s(fast):
    ours, theirs = _training_arguments(LESSON_09), _training_arguments(LESSON_06)
    our_parameters, their_parameters = _parameters(LESSON_09, fast), _parameters(LESSON_06, fast)
    for name in _claimed_keywords():
        assert name in ours, f"lesson 09's TrainingArguments has no {name}="
        assert name in theirs, f"lesson 06's TrainingArguments has no {name}= any more"
        mine, lesson_06 = _value(ours[name], our_parameters), _value(theirs[name], their_parameters)
        assert mine is not UNRESOLVED and lesson_06 is not UNRESOLVED, name
        assert mine == lesson_06, f"{name}: lesson 09 has {mine!r}, lesson 06 {lesson_06!r}"


def test_the_comparison_catches_a_changed_keyword():
    tree = ast.parse("TrainingArguments(weight_decay=0.1, seed=SEED)")
    keywords = {k.arg: k.value for k in tree.body[0].value.keywords}
    assert _value(keywords["weight_decay"], {}) == 0.1
    assert _value(keywords["seed"], {"SEED": 3}) == 3
    assert _value(keywords["seed"], {"SEED": 3}) != _value(keywords["seed"], {"SEED": 0})


def _sample_definitions() -> dict[str, list[str]]:
    """Files (lessons, solutions, scripts) that define their own `sample(split, size)`."""
    found: dict[str, list[str]] = {}
    paths = [*sorted((ROOT / "notebooks").glob("**/[0-9][0-9]_*.ipynb"))]
    paths += sorted((ROOT / "scripts").glob("*.py"))
    for path in paths:
        if "zh-CN" in path.parts:
            continue  # the translated edition is built from the English one
        if path.suffix == ".py":
            sources = [path.read_text(encoding="utf-8")]
        else:
            sources = [ast.unparse(tree) for _cell, tree in _code(path)]
        for source in sources:
            for node in ast.walk(ast.parse(source)):
                if (
                    isinstance(node, ast.FunctionDef)
                    and node.name == "sample"
                    and [a.arg for a in node.args.args][:2] == ["split", "size"]
                ):
                    found.setdefault(path.name, []).append(ast.unparse(node))
    return found


# lesson 06 builds sample() in view, and its solutions repeat lesson 06's cells
BUILDERS = {LESSON_06.name, "06_fine_tuning_with_trainer_solutions.ipynb"}


def test_the_sample_helper_lives_once():
    copies = _sample_definitions()
    assert set(copies) <= BUILDERS, f"copies of sample() outside lesson 06: {set(copies)}"


def test_lesson_06s_sample_is_the_packages():
    from datasets import Dataset

    import tutorial_utils as tu

    found = _sample_definitions()
    definitions = [d for name in sorted(BUILDERS) for d in found.get(name, [])]
    if not found.get(LESSON_06.name):  # then lesson 06 uses the package's, as later lessons do
        assert "tu.data.sample(" in LESSON_06.read_text(encoding="utf-8")
        return
    split = Dataset.from_dict({"text": [f"s{i}" for i in range(50)], "label": [0, 1] * 25})
    for definition in definitions:
        for seed in (0, 3):
            namespace: dict[str, object] = {"SEED": seed}
            exec(definition, namespace)  # lesson 06's own function, with its SEED
            for size in (None, 7, 50, 80):
                theirs = namespace["sample"](split, size)
                ours = tu.data.sample(split, size, seed=seed)
                assert theirs["text"] == ours["text"], (seed, size)


def test_the_scripts_fixed_keywords_are_lesson_09s():
    """Lesson 09 says the script holds its recipe: every keyword the script fixes is the same."""
    tree = ast.parse((ROOT / "scripts" / "finetune_sentiment.py").read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TrainingArguments"
    ]
    assert len(calls) == 1
    script = {k.arg: k.value for k in calls[0].keywords if k.arg is not None}
    ours, parameters = _training_arguments(LESSON_09), _parameters(LESSON_09, fast=False)
    compared = []
    for name, expression in script.items():
        if name == "ddp_find_unused_parameters":
            continue  # matters with several processes only; the lesson trains in one
        try:
            fixed = ast.literal_eval(expression)
        except ValueError:
            continue  # set from the command line (--batch-size, --learning-rate, ...)
        assert name in ours, f"the script fixes {name}={fixed!r}, lesson 09 does not set it"
        assert _value(ours[name], parameters) == fixed, name
        compared.append(name)
    assert len(compared) >= 6, compared
    assert ast.unparse(script["use_cpu"]) == ast.unparse(ours["use_cpu"])

"""The package's shape: no import cycles between its modules, small shared helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import tutorial_utils
from tutorial_utils.batching import length_batches

PACKAGE = Path(tutorial_utils.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Package modules that ``path`` imports anywhere (top level or inside a function)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if child in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {}
    for path in paths:
        name = _module_name(path)
        # a package may import its own submodules to build its API; that is not a cycle
        graph[name] = {m for m in _imports(path, modules) if not m.startswith(f"{name}.")}
    return graph


def test_the_package_has_no_import_cycle():
    graph = _graph()
    assert "tutorial_utils.roles" in graph["tutorial_utils.loading"]  # the walk works
    assert "tutorial_utils.offline_models.sentiment" in graph["tutorial_utils.roles"]
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_evaluation_batches_are_sorted_by_length_and_cover_every_index():
    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = length_batches(lengths, 3)
    assert [len(b) for b in batches] == [3, 3, 1]
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_training_batches_are_full_shuffled_and_group_similar_lengths():
    lengths = list(range(64)) * 4
    batches = length_batches(lengths, 8, torch.Generator().manual_seed(0), pool=4)
    assert batches and all(len(b) == 8 for b in batches)
    assert len({i for b in batches for i in b}) == len(batches) * 8  # no index twice
    again = length_batches(lengths, 8, torch.Generator().manual_seed(0), pool=4)
    other = length_batches(lengths, 8, torch.Generator().manual_seed(1), pool=4)
    assert batches == again and batches != other
    # within a pool of 32 the batch spans a quarter of the pool's lengths, not all of them
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
    assert sum(spread) / len(spread) < 32


def test_length_batches_rejects_a_batch_size_below_one():
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        length_batches([1, 2], 0)


MIXED_MODULE_LINES = 300  # about where a module that mixes concerns gets hard to read


def test_offline_models_is_one_module_per_model():
    folder = PACKAGE / "offline_models"
    names = {p.stem for p in folder.glob("*.py")}
    assert {"minilm", "smollm2", "sentiment", "fill_mask"} <= names
    assert not (PACKAGE / "offline_models.py").exists()
    for path in folder.glob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MIXED_MODULE_LINES, f"{path.name}: {lines} lines"


def test_the_recipes_share_one_training_loop():
    """Every plain PyTorch training steps through tutorial_utils.training.training_losses."""
    for module in ("classifier.py", "offline_models/building.py"):
        source = (PACKAGE / module).read_text(encoding="utf-8")
        assert "training_losses(" in source, module
        assert "scaled_step(" not in source, f"{module} steps by itself"


# Modules above MIXED_MODULE_LINES that hold one concern each, and what that concern is.
ONE_CONCERN = {
    "attention.py": "attention from scratch: scaled dot-product, multi-head, positional encodings",
    "cache.py": "the tutorial cache: atomic, verified entries built one at a time",
    "classifier.py": "lesson 02's classifier: its model, training loop and predictions",
    "hub_tour.py": "lesson 00's tour of the Hub: task families, cards, the decision table",
    "plotting.py": "the course's figures",
}


def test_a_long_module_holds_one_concern():
    """A module past about 300 lines is split by concern, or named here with its one concern."""
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        name = path.relative_to(PACKAGE).as_posix()
        if lines > MIXED_MODULE_LINES:
            assert name in ONE_CONCERN, (
                f"{name} has {lines} lines: split it by concern, or add it to ONE_CONCERN "
                "with the one thing it does"
            )
    for name in ONE_CONCERN:  # an entry whose module shrank or went is removed
        path = PACKAGE / name
        assert path.exists() and len(path.read_text(encoding="utf-8").splitlines()) > (
            MIXED_MODULE_LINES
        ), f"{name} is no longer long: remove it from ONE_CONCERN"

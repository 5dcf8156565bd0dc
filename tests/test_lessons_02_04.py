"""Claims lessons 02-04 make about the libraries, and the model cache lesson 02 shares with its solutions.

Each test pins one sentence of a lesson to the installed library, so that an upgrade which
changes the behaviour fails here instead of leaving the lesson untrue.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import tutorial_utils as tu
from tutorial_utils.paths import project_root

NOTEBOOKS = project_root() / "notebooks"
LESSON_02 = NOTEBOOKS / "02_transformer_from_scratch.ipynb"
SOLUTIONS_02 = NOTEBOOKS / "solutions" / "02_transformer_from_scratch_solutions.ipynb"


def _cells(path: Path) -> dict[str, str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {c["id"]: "".join(c["source"]) for c in cells}


def _settings_lines(source: str) -> list[str]:
    return [
        line.split("#")[0].strip() for line in source.splitlines() if line.startswith("settings")
    ]


# --- lesson 02 ---------------------------------------------------------------------------


def test_the_writeup_encoder_warns_about_nested_tensors_not_about_shapes():
    """Lesson 02: the only warning is a performance note on nested tensors and batch_first."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=2)
        nn.TransformerEncoder(layer, num_layers=2)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "nested" in messages[0] and "batch_first" in messages[0]


def test_lesson_and_solution_key_the_cached_model_by_the_same_settings():
    """The solution reuses classifier.pt only if it builds the settings exactly as the lesson saves them."""
    lesson = _settings_lines(_cells(LESSON_02)["cell-028"])
    solution = _settings_lines(_cells(SOLUTIONS_02)["train"])
    assert lesson and lesson == solution
    assert _cells(LESSON_02)["cell-001"] == _cells(SOLUTIONS_02)["cell-001"]  # same parameters
    assert "config = dict(" in _cells(LESSON_02)["cell-018"]
    lesson_config = _cells(LESSON_02)["cell-018"].split("config = dict(")[1].split(")")[0]
    solution_config = _cells(SOLUTIONS_02)["train"].split("config = dict(")[1].split(")")[0]
    assert lesson_config == solution_config


@pytest.fixture
def solution_cells(tmp_path, monkeypatch):
    """Runs the solution's parameters, setup and training cells in fast mode, into tmp_path."""
    monkeypatch.setenv("TUTORIAL_FAST", "1")
    cells = _cells(SOLUTIONS_02)
    calls: list[dict] = []

    def fake_training(reviews, tokenizer, **kwargs):
        calls.append(kwargs)
        torch.manual_seed(kwargs["seed"])
        model = tu.classifier.TransformerClassifier(
            vocab_size=len(tokenizer),
            d_model=kwargs["d_model"],
            num_heads=kwargs["num_heads"],
            num_layers=kwargs["num_layers"],
            dim_feedforward=kwargs["dim_feedforward"],
            num_classes=2,
            max_len=kwargs["max_length"],
            dropout=kwargs["dropout"],
            pad_id=tokenizer.pad_token_id,
        )
        return {"model": model.eval(), "test_accuracy": 0.5, "seconds": 0.0, "device": "cpu"}

    monkeypatch.setattr(tu.classifier, "train_from_scratch", fake_training)

    def run(**changes) -> dict:
        namespace: dict = {}
        exec(cells["cell-001"], namespace)
        namespace["OUTPUT_DIR"] = str(tmp_path)
        namespace.update(changes)
        exec(cells["cell-002"], namespace)
        exec(cells["train"], namespace)
        return namespace

    return run, calls, tmp_path


def test_solution_trains_on_an_empty_cache_then_reuses_the_saved_model(solution_cells, capsys):
    run, calls, folder = solution_cells
    first = run()
    assert len(calls) == 1 and (folder / "classifier.pt").exists()
    assert calls[0]["train_limit"] == first["TRAIN_LIMIT"] and calls[0]["epochs"] == first["EPOCHS"]
    assert "training one as the lesson does" in capsys.readouterr().out

    second = run()
    assert len(calls) == 1, "a matching cache must not train again"
    assert "reusing the classifier lesson 02 trained" in capsys.readouterr().out
    for (name, a), b in zip(
        first["model"].state_dict().items(), second["model"].state_dict().values(), strict=True
    ):
        assert torch.equal(a.cpu(), b.cpu()), name

    run(SEED=1)  # other settings: the cached model is not theirs
    assert len(calls) == 2 and calls[1]["seed"] == 1


# --- lesson 03 ---------------------------------------------------------------------------


def test_a_pipeline_without_a_task_fails_for_a_local_folder(monkeypatch):
    """Lesson 03: without a task, pipeline asks the Hub, so a folder or offline mode fails."""
    from transformers import pipeline

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tu.checkpoint("embedder")  # the tests run offline: a local folder
    with pytest.raises(RuntimeError, match="infer task"):
        pipeline(model=str(folder))


# --- lesson 04 ---------------------------------------------------------------------------


def test_bert_config_defaults_are_bert_base_sizes():
    """Lesson 04 puts BertConfig() beside the checkpoint's config as bert-base-uncased's sizes."""
    from transformers import BertConfig

    config = BertConfig()
    sizes = (config.hidden_size, config.num_hidden_layers, config.num_attention_heads)
    assert sizes == (768, 12, 12)
    assert (config.intermediate_size, config.vocab_size) == (3072, 30522)


def test_the_writeup_auto_class_line_fails_twice_over():
    from transformers import AutoModel, AutoModelForSequenceClassification

    with pytest.raises(AttributeError):
        AutoModel.AutoModelForSequenceClassification("any")  # noqa: B018 - the write-up's line
    with pytest.raises(OSError, match="from_pretrained"):
        AutoModelForSequenceClassification("any")


def test_a_saved_tokenizer_keeps_its_vocabulary_in_tokenizer_json(tmp_path):
    """Lesson 04: transformers 5 writes tokenizer.json (vocabulary inside) and no vocab.txt."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tu.checkpoint("encoder"))
    tokenizer.save_pretrained(tmp_path)
    assert not (tmp_path / "vocab.txt").exists()
    saved = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved["model"]["type"] == "WordPiece"
    vocab = saved["model"]["vocab"]
    assert len(vocab) == tokenizer.vocab_size
    assert vocab["movie"] == tokenizer.convert_tokens_to_ids("movie")


def test_the_offline_embedder_folder_holds_the_files_lesson_04_reads():
    folder = Path(tu.checkpoint("embedder"))  # the tests run offline: the packaged folder
    assert folder.is_dir(), folder
    lfs = [
        line.split()[0]
        for line in (folder / ".gitattributes").read_text(encoding="utf-8").splitlines()
        if "filter=lfs" in line
    ]
    assert "model.safetensors" in lfs
    data_config = json.loads((folder / "data_config.json").read_text(encoding="utf-8"))
    assert data_config and all({"name", "lines"} <= set(entry) for entry in data_config)
    assert "max_seq_length" in json.loads(
        (folder / "sentence_bert_config.json").read_text(encoding="utf-8")
    )

"""Model outputs are paired with the dataset rows they belong to, checked against the data.

``train_sampling_strategy="group_by_length"`` makes ``trainer.predict`` read a dataset in
length order, so its rows come back in another order than the dataset's. A table that puts
those rows beside the dataset's texts pairs each text with another one's label and
prediction. These tests run the code that pairs outputs with rows - lesson 06's error
analysis, lesson 09's ``fine_tune``, ``scripts/finetune_sentiment.py`` and the chat app's
sentiment tab - on a few rows, and check every pairing against the packaged CSV file (the
label of each sentence) and against the model run on each text alone. The models train for
a step or two only: a pairing does not need a good model to be checked.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import tutorial_utils as tu
from tutorial_utils.paths import project_root

ROOT = project_root()
LESSON_06 = ROOT / "notebooks" / "06_fine_tuning_with_trainer.ipynb"
LESSON_09 = ROOT / "notebooks" / "09_lora_and_scaling_out.ipynb"


@pytest.fixture(scope="module", autouse=True)
def offline(tmp_path_factory):
    """The tests read the packaged CSV: the course's offline data."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TUTORIAL_FAST", "1")
    yield
    monkeypatch.undo()


@pytest.fixture(scope="module")
def csv_label():
    """``csv_label(text)``: the label the packaged CSV gives a Rotten Tomatoes sentence."""
    import pandas as pd

    frame = pd.read_csv(tu.data.reviews_csv())
    frame = frame[frame["source"] == "rotten_tomatoes"]
    labels: dict[str, set[int]] = {}
    for text, label in zip(frame["text"].astype(str).str.strip(), frame["label"], strict=True):
        labels.setdefault(text, set()).add(int(label))

    def lookup(text: str) -> int:
        found = labels.get(text.strip())
        assert found is not None, f"not a sentence of the CSV file: {text[:80]!r}"
        assert len(found) == 1, f"the CSV gives this sentence two labels: {text[:80]!r}"
        return next(iter(found))

    return lookup


def _code_cells(path: Path) -> list[tuple[str, str, list[str]]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (c["id"], "".join(c["source"]), c.get("metadata", {}).get("tags", []))
        for c in cells
        if c["cell_type"] == "code"
    ]


def _run_cells(path: Path, overrides: dict, ids: list[str] | None = None, until: str = "") -> dict:
    """Execute a notebook's code cells (those in ``ids``, or all up to ``until``) in one
    namespace; ``overrides`` are set right after the parameters cell, as papermill does."""
    namespace: dict = {"__name__": "__notebook__"}
    cells = _code_cells(path)
    known = {cell_id for cell_id, _, _ in cells}
    missing = set(ids or []) - known | ({until} - known if until else set())
    assert not missing, f"{path.name} has no cells {sorted(missing)}: update this test"
    for cell_id, source, tags in cells:
        if ids is None or cell_id in ids:
            exec(compile(source, f"{path.name}:{cell_id}", "exec"), namespace)  # noqa: S102
            if "parameters" in tags:
                namespace.update(overrides)
        if cell_id == until:
            break
    return namespace


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tu.checkpoint("embedder"))


def _probabilities(model, tokenizer, *texts: str) -> np.ndarray:
    """Class probabilities of one example (one text, or a pair), run alone: no padding."""
    import torch

    model.eval()
    encoded = tokenizer(*texts, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded.to(model.device)).logits
    return logits.float().softmax(-1)[0].cpu().numpy()


def _sentiment_model():
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(tu.checkpoint("sentiment"))


def _test_rows(size: int, seed: int = 0):
    """The first ``size`` test sentences of a seeded shuffle, as the lessons sample them."""
    split = tu.load_reviews(seed=seed, verbose=False)["test"]
    return split.shuffle(seed=seed).select(range(size))


# --- the premise: group_by_length reorders trainer.predict ------------------------------------


def test_group_by_length_orders_predict_by_length_and_sequential_keeps_the_order(
    tokenizer, tmp_path
):
    """Why the lessons must care: predictions come back in length order under grouping."""
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    rows = _test_rows(96).map(lambda batch: tokenizer(batch["text"]), batched=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
    )
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_eval_batch_size=16,
        train_sampling_strategy="group_by_length",
        report_to="none",
        use_cpu=True,
        dataloader_pin_memory=False,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=BertForSequenceClassification(config),
        args=args,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
    )
    labels = np.array(rows["label"])
    grouped = trainer.predict(rows)
    assert not (grouped.label_ids == labels).all(), "group_by_length kept the dataset's order"
    trainer.args.train_sampling_strategy = "sequential"
    assert (trainer.predict(rows).label_ids == labels).all()


# --- lesson 06: the error-analysis table -------------------------------------------------------


@pytest.mark.parametrize("task", ["sentiment", "pairs"])
def test_lesson06_error_table_pairs_each_text_with_its_own_label_and_prediction(
    task, csv_label, tmp_path
):
    ns = _run_cells(
        LESSON_06,
        {
            "TASK": task,
            "TRAIN_SIZE": 48,
            "EVAL_SIZE": 96,
            "MAX_STEPS": 2,
            "EVALUATIONS": 1,
            "OUTPUT_DIR": str(tmp_path),
        },
        until="cell-7754ca13",
    )
    errors, model, tokenizer = ns["errors"], ns["model"], ns["tokenizer"]
    names = ns["label_names"]
    assert len(errors) == 96
    columns = ns["text_columns"]
    for index, row in errors.iterrows():
        texts = [row[column] for column in columns]
        if task == "sentiment":
            expected = names[csv_label(texts[0])]
        else:
            assert names == ["different", "same"], "offline, the pairs are the review pairs"
            same = csv_label(texts[0]) == csv_label(texts[1])
            expected = "same" if same else "different"
        assert row["true"] == expected, f"row {index}: {texts} shown as {row['true']}"
        probabilities = _probabilities(model, tokenizer, *texts)
        p_true = probabilities[names.index(expected)]
        assert math.isclose(row["p(true)"], p_true, abs_tol=1e-4), (
            f"row {index}: p(true) {row['p(true)']:.4f} in the table, {p_true:.4f} for its text"
        )
        if abs(probabilities[0] - probabilities[1]) > 1e-3:  # not a tie
            assert row["predicted"] == names[int(probabilities.argmax())], f"row {index}"


# --- lesson 09: fine_tune's accuracy ------------------------------------------------------------


def test_lesson09_accuracy_is_that_of_each_test_sentence_with_its_own_label(csv_label, tmp_path):
    size = 128
    ns = _run_cells(
        LESSON_09,
        {"TRAIN_SIZE": 32, "TEST_SIZE": size, "MAX_STEPS": 1, "OUTPUT_DIR": str(tmp_path)},
        ids=["cell-001", "cell-003", "cell-013", "cell-015"],
    )
    rows = _test_rows(size)
    assert ns["test"]["label"] == rows["label"], "the lesson's test rows are not these"
    model = _sentiment_model()  # already fine-tuned: its predictions are worth pairing
    result = ns["fine_tune"](model, "pairing-check", 1e-12)  # a step that changes nothing
    tokenizer = ns["tokenizer"]
    right = [
        int(_probabilities(model, tokenizer, text).argmax()) == csv_label(text)
        for text in rows["text"]
    ]
    expected = float(np.mean(right))
    assert expected > 0.7, f"the sentiment model scores {expected:.3f}: too close to chance"
    assert abs(result["test accuracy"] - expected) <= 1 / size, (
        f"lesson 09 reports {result['test accuracy']:.3f}; its test sentences, each with its "
        f"own label from the CSV, give {expected:.3f}"
    )


# --- scripts/finetune_sentiment.py --------------------------------------------------------------


def test_script_accuracy_is_that_of_each_test_sentence_with_its_own_label(csv_label, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    spec = importlib.util.spec_from_file_location(
        "finetune_sentiment_script", ROOT / "scripts" / "finetune_sentiment.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    size = 128
    results = script.main(
        [
            "--role",
            "sentiment",
            "--lora-rank",
            "0",
            "--train-size",
            "32",
            "--test-size",
            str(size),
            "--max-steps",
            "1",
            "--learning-rate",
            "1e-12",
            "--output-dir",
            str(tmp_path),
        ]
    )
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "model")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")
    rows = _test_rows(size)
    right = [
        int(_probabilities(model, tokenizer, text).argmax()) == csv_label(text)
        for text in rows["text"]
    ]
    expected = float(np.mean(right))
    assert expected > 0.7, f"the saved model scores {expected:.3f}: too close to chance"
    assert results["test_examples"] == size
    assert abs(results["held_out_accuracy"] - expected) <= 1 / size, (
        f"the script reports {results['held_out_accuracy']:.3f}; its test sentences, each "
        f"with its own label from the CSV, give {expected:.3f}"
    )


# --- the chat app's sentiment tab ---------------------------------------------------------------


def test_chat_app_scores_each_review_as_its_own(csv_label):
    spec = importlib.util.spec_from_file_location("pairing_chat_app", ROOT / "apps/chat/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from transformers import pipeline

    classifier = pipeline("text-classification", model=module.choose_checkpoints().sentiment)
    # the sentiment tab needs no chat model: a stand-in with a config is enough
    app = module.ChatApp(None, SimpleNamespace(config=SimpleNamespace()), classifier, "")
    rows = _test_rows(48, seed=1)
    texts = list(rows["text"])
    batch = app.sentiment(texts)
    assert len(batch) == len(texts)
    model, tokenizer = classifier.model, classifier.tokenizer
    id2label = model.config.id2label
    right = []
    for text, scores in zip(texts, batch, strict=True):
        alone = _probabilities(model, tokenizer, text)
        for i, p in enumerate(alone):
            assert math.isclose(scores[id2label[i]], p, abs_tol=1e-4), (
                f"the tab gives {text[:60]!r} {scores}, the model alone {alone}"
            )
        shown, _warning = app.classify(text)
        assert shown == pytest.approx(scores, abs=1e-5)
        predicted = model.config.label2id[max(scores, key=scores.get)]  # the model's label names
        right.append(predicted == csv_label(text))
    assert np.mean(right) > 0.7, f"the tab agrees with the CSV on {np.mean(right):.2f} only"


def test_chat_app_scores_chinese_reviews_with_the_chinese_model_in_a_mixed_batch():
    """Chinese reviews go to ``zh-sentiment``, English ones to ``sentiment``, in one batch; each
    result is its own text's, checked against the model alone and the Chinese dataset's labels."""
    spec = importlib.util.spec_from_file_location("pairing_chat_app_zh", ROOT / "apps/chat/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from transformers import pipeline

    checkpoints = module.choose_checkpoints()
    english = pipeline("text-classification", model=checkpoints.sentiment)
    chinese = pipeline("text-classification", model=checkpoints.zh_sentiment)
    stand_in = SimpleNamespace(config=SimpleNamespace())  # the tab needs no chat model
    app = module.ChatApp(None, stand_in, english, "", zh_classifier=chinese)
    zh_rows = tu.load_chinese_reviews(seed=0, verbose=False)["test"].select(range(32))
    en_texts = list(_test_rows(32, seed=2)["text"])
    texts = [t for pair in zip(zh_rows["text"], en_texts, strict=True) for t in pair]
    batch = app.sentiment(texts)
    assert len(batch) == len(texts)
    model, tokenizer = chinese.model, chinese.tokenizer
    right = []
    for i, (text, scores) in enumerate(zip(texts, batch, strict=True)):
        reader = chinese if i % 2 == 0 else english
        alone = _probabilities(reader.model, reader.tokenizer, text)
        id2label = reader.model.config.id2label
        for k, p in enumerate(alone):
            assert math.isclose(scores[id2label[k]], p, abs_tol=1e-4), (text[:40], scores, alone)
        if i % 2 == 0:
            predicted = model.config.label2id[max(scores, key=scores.get)]
            right.append(predicted == zh_rows["label"][i // 2])
    assert tokenizer is not english.tokenizer
    assert np.mean(right) > 0.7, f"the tab agrees with the Chinese labels on {np.mean(right):.2f}"

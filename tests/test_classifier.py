"""tutorial_utils.classifier: shapes, padding invariance, a short deterministic training run."""

from __future__ import annotations

import pytest
import torch

from tutorial_utils.classifier import (
    TransformerClassifier,
    evaluate_accuracy,
    predict,
    train_classifier,
    train_from_scratch,
)


class WordTokenizer:
    """A tiny stand-in for a Hugging Face tokenizer: one id per word, 0 = padding."""

    pad_token_id = 0

    def __init__(self, words):
        self.vocab = {w: i + 2 for i, w in enumerate(words)}  # 1 = unknown

    def __len__(self):
        return len(self.vocab) + 2

    def __call__(self, texts, truncation=True, max_length=16, padding=True, return_tensors="pt"):
        rows = [[self.vocab.get(w, 1) for w in t.split()][:max_length] for t in texts]
        width = max_length if padding == "max_length" else max(len(r) for r in rows)
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}


GOOD, BAD = ["great", "fun", "moving"], ["dull", "boring", "awful"]
FILLER = ["the", "film", "was", "a", "plot", "story"]


def _toy_dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(torch.randint(0, 2, (1,), generator=g))
        words = [FILLER[int(i)] for i in torch.randint(0, len(FILLER), (5,), generator=g)]
        cue = (GOOD if label else BAD)[int(torch.randint(0, 3, (1,), generator=g))]
        words.insert(int(torch.randint(0, 6, (1,), generator=g)), cue)
        texts.append(" ".join(words))
        labels.append(label)
    return {"text": texts, "label": labels}


TOKENIZER = WordTokenizer(GOOD + BAD + FILLER)


def _model(seed=0, **kwargs):
    torch.manual_seed(seed)
    config = dict(
        vocab_size=len(TOKENIZER),
        d_model=16,
        num_heads=2,
        num_layers=1,
        dim_feedforward=32,
        num_classes=2,
        max_len=16,
        dropout=0.0,
        pad_id=0,
    )
    config.update(kwargs)
    return TransformerClassifier(**config)


def test_forward_shapes_and_attention():
    model = _model(num_layers=2).eval()
    ids = torch.randint(1, len(TOKENIZER), (3, 7))
    assert model(ids).shape == (3, 2)
    assert all(layer.last_attention.shape == (3, 2, 7, 7) for layer in model.layers)


def test_padding_does_not_change_the_prediction():
    model = _model().eval()
    ids = torch.tensor([[3, 4, 5, 6]])
    padded = torch.tensor([[3, 4, 5, 6, 0, 0, 0]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids), model(padded), atol=1e-5, rtol=0)


def test_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        _model(d_model=10, num_heads=4)
    with pytest.raises(ValueError, match="max_len"):
        _model()(torch.ones(1, 20, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(batch, L\)"):
        _model()(torch.ones(5, dtype=torch.long))
    with pytest.raises(ValueError, match="columns 'text' and 'label'"):
        train_classifier(_model(), {"sentence": ["a"]}, None, TOKENIZER)
    with pytest.raises(ValueError, match="non-empty list"):
        predict(_model(), TOKENIZER, [])
    with pytest.raises(ValueError, match="unknown setting"):
        train_from_scratch({}, TOKENIZER, learning_rate=1.0)


def test_training_is_deterministic_and_learns():
    train, valid = _toy_dataset(256, 0), _toy_dataset(64, 1)
    runs = []
    for _ in range(2):
        model = _model(seed=1)
        before = evaluate_accuracy(model, valid, TOKENIZER, max_length=16)
        history = train_classifier(
            model,
            train,
            valid,
            TOKENIZER,
            epochs=3,
            batch_size=16,
            lr=3e-3,
            max_length=16,
            seed=0,
            log_every=8,
            verbose=False,
        )
        runs.append((history, evaluate_accuracy(model, valid, TOKENIZER, max_length=16)))
    (history, accuracy), (history2, _) = runs
    assert history == history2  # same seed, same run
    assert set(history) == {
        "step",
        "train_loss",
        "eval_step",
        "eval_loss",
        "eval_accuracy",
        "epoch",
    }
    assert len(history["eval_accuracy"]) == 3 and history["epoch"] == [1, 2, 3]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert accuracy > max(before, 0.8)
    labels = predict(model, TOKENIZER, ["the film was great fun", "dull and boring"])
    assert [label for label, _ in labels] == ["pos", "neg"]
    assert all(0.5 <= p <= 1.0 for _, p in labels)


def test_max_steps_stops_early():
    history = train_classifier(
        _model(),
        _toy_dataset(64, 2),
        None,
        TOKENIZER,
        epochs=5,
        batch_size=8,
        max_steps=3,
        log_every=1,
        verbose=False,
    )
    assert history["step"] == [1, 2, 3] and history["eval_accuracy"] == []


def test_train_from_scratch_one_call(monkeypatch):
    monkeypatch.setenv("TUTORIAL_DEVICE", "cpu")  # where it trains is reported
    reviews = {
        "train": _toy_dataset(96, 3),
        "validation": _toy_dataset(32, 4),
        "test": _toy_dataset(32, 5),
    }
    result = train_from_scratch(
        reviews,
        TOKENIZER,
        fast=False,
        seed=0,
        verbose=False,
        epochs=1,
        d_model=16,
        num_layers=1,
        max_length=16,
    )
    assert set(result) == {"model", "history", "test_accuracy", "seconds", "device", "config"}
    assert isinstance(result["model"], TransformerClassifier)
    assert result["device"] == result["model"].device.type == "cpu"  # TUTORIAL_DEVICE=cpu below
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["seconds"] > 0
    assert result["config"]["epochs"] == 1 and len(result["history"]["eval_accuracy"]) == 1

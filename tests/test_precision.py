"""Device choice (``TUTORIAL_DEVICE``) and mixed precision: GPU only, the CPU path unchanged."""

from __future__ import annotations

import contextlib

import pytest
import torch

import tutorial_utils as tu
from tutorial_utils import precision
from tutorial_utils.classifier import TransformerClassifier, train_classifier


def test_device_default_and_override(monkeypatch):
    monkeypatch.delenv("TUTORIAL_DEVICE", raising=False)
    default = tu.device()
    assert default in {"cpu", "cuda", "mps"}
    monkeypatch.setenv("TUTORIAL_DEVICE", "cpu")
    assert tu.device() == "cpu"
    monkeypatch.setenv("TUTORIAL_DEVICE", " CPU ")
    assert tu.device() == "cpu"
    monkeypatch.setenv("TUTORIAL_DEVICE", "")
    assert tu.device() == default


def test_device_override_bad_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TUTORIAL_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"TUTORIAL_DEVICE='gpu'.*cpu, cuda, mps"):
        tu.device()


def test_device_override_unavailable_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("TUTORIAL_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"TUTORIAL_DEVICE=cuda, but .*set it to cpu"):
        tu.device()
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv("TUTORIAL_DEVICE", "mps")
    with pytest.raises(ValueError, match="MPS backend is not available"):
        tu.device()


def test_environment_report_shows_the_override(monkeypatch):
    monkeypatch.setenv("TUTORIAL_DEVICE", "cpu")
    assert tu.environment_report()["device"] == "cpu"


def test_no_mixed_precision_off_cuda():
    for device in ("cpu", "mps", torch.device("cpu")):
        assert precision.mixed_precision_dtype(device) is None
        assert tu.mixed_precision_args(device) == {}
        assert not precision.grad_scaler(device).is_enabled()
        with precision.autocast(device):  # a do-nothing context: float32 stays float32
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


@pytest.mark.parametrize(
    ("bf16_native", "expected"), [(True, {"bf16": True}), (False, {"fp16": True})]
)
def test_mixed_precision_on_cuda_follows_the_card(monkeypatch, bf16_native, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(
        torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16_native
    )
    assert tu.mixed_precision_args("cuda") == expected
    assert tu.mixed_precision_args(torch.device("cuda", 0)) == expected
    dtype = torch.bfloat16 if bf16_native else torch.float16
    assert precision.mixed_precision_dtype("cuda:0") == dtype
    # switched off (train_classifier(..., mixed_precision=False)): float32 on the GPU too
    assert isinstance(precision.autocast("cuda", enabled=False), contextlib.nullcontext)
    assert not precision.grad_scaler("cuda", enabled=False).is_enabled()
    from transformers import TrainingArguments

    assert set(expected) <= {f.name for f in TrainingArguments.__dataclass_fields__.values()}


def test_mixed_precision_args_default_to_tu_device(monkeypatch):
    monkeypatch.setenv("TUTORIAL_DEVICE", "cpu")
    assert tu.mixed_precision_args() == {}


def test_classifier_reports_its_device_and_training_moves_it(monkeypatch):
    torch.manual_seed(0)
    model = TransformerClassifier(vocab_size=10, d_model=8, num_heads=2, num_layers=1, max_len=8)
    assert model.device == torch.device("cpu")
    moved = []
    original = TransformerClassifier.to

    def spy(self, *args, **kwargs):
        moved.append(args[0] if args else kwargs.get("device"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransformerClassifier, "to", spy)
    monkeypatch.setenv("TUTORIAL_DEVICE", "cpu")
    data = {"text": ["1 2 3", "4 5"], "label": [0, 1]}

    def tokenizer(texts, truncation=True, max_length=8, padding=True, return_tensors="pt"):
        rows = [[int(w) for w in t.split()] for t in texts]
        ids = torch.tensor([r + [0] * (max_length - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}

    train_classifier(model, data, None, tokenizer, epochs=1, batch_size=2, verbose=False)
    assert moved == [torch.device("cpu")]  # to tu.device(), as Trainer does

"""LoRA from scratch equals peft's LoRA layer; the lesson 09 exercise checks pass and hint."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tutorial_utils.exercises import check
from tutorial_utils.lora import LoRALinear, count_parameters


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(12, 7)

    def forward(self, x):
        return self.proj(x)


def _pair(r=4, alpha=8.0):
    """peft's LoRA layer and ours around copies of one linear layer, with the same random A, B."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    peft_model = get_peft_model(
        Tiny(), LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"], lora_dropout=0.0)
    )
    layer = peft_model.base_model.model.proj
    ours = LoRALinear(nn.Linear(12, 7), r=r, alpha=alpha)
    with torch.no_grad():
        ours.base.load_state_dict(layer.base_layer.state_dict())
        layer.lora_B["default"].weight.normal_()  # non-zero B, so the update is tested
        ours.A.copy_(layer.lora_A["default"].weight)
        ours.B.copy_(layer.lora_B["default"].weight)
    return peft_model, layer, ours


@pytest.mark.parametrize("r, alpha", [(4, 8.0), (1, 16.0), (8, 4.0)])
def test_lora_linear_equals_peft(r, alpha):
    peft_model, layer, ours = _pair(r, alpha)
    x = torch.randn(2, 5, 12)
    assert layer.scaling["default"] == pytest.approx(ours.scaling)
    assert torch.allclose(ours(x), peft_model(x), atol=1e-5)
    assert torch.allclose(ours.delta_weight(), layer.get_delta_weight("default"), atol=1e-6)
    merged = peft_model.merge_and_unload()
    assert type(merged.proj) is nn.Linear
    assert torch.allclose(ours.merged()(x), merged(x), atol=1e-5)


def test_lora_linear_starts_as_the_base_layer_and_trains_only_a_and_b():
    base = nn.Linear(12, 7)
    layer = LoRALinear(base, r=2, alpha=4)
    x = torch.randn(3, 12)
    assert torch.equal(layer(x), base(x))  # B = 0 at the start
    trainable, total = count_parameters(layer)
    assert trainable == 2 * (12 + 7) and total == trainable + 12 * 7 + 7
    layer(x).sum().backward()
    assert base.weight.grad is None and layer.A.grad is not None


def test_lora_linear_rejects_bad_input():
    with pytest.raises(TypeError, match="nn.Linear"):
        LoRALinear(nn.Conv1d(2, 2, 1))
    with pytest.raises(ValueError, match="positive"):
        LoRALinear(nn.Linear(2, 2), r=0)


def test_exercise_lora_forward():
    def right(x, linear, A, B, alpha):
        return linear(x) + (alpha / A.shape[0]) * (x @ A.T @ B.T)

    def unscaled(x, linear, A, B, alpha):
        return linear(x) + x @ A.T @ B.T

    assert check("09.lora_forward", right)
    assert not check("09.lora_forward", unscaled)


def test_exercise_trainable_share(capsys):
    def right(model):
        trainable, total = count_parameters(model)
        return trainable, total, trainable / total

    def everything(model):
        total = sum(p.numel() for p in model.parameters())
        return total, total, 1.0

    assert check("09.trainable_share", right)
    assert not check("09.trainable_share", everything)
    assert "requires_grad" in capsys.readouterr().out


def test_exercise_memory_estimate(capsys):
    assert check(
        "09.memory_estimate", lambda total, trainable, b: (total * b + trainable * 12) / 1e9
    )
    assert not check("09.memory_estimate", lambda total, trainable, b: total * 16 / 1e9)
    assert "trainable" in capsys.readouterr().out


def test_exercise_adapter_size(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100,
        hidden_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        num_labels=2,
    )
    model = get_peft_model(
        BertForSequenceClassification(config),
        LoraConfig(task_type="SEQ_CLS", r=32, target_modules=["query", "key", "value"]),
    )
    model.save_pretrained(tmp_path)
    lora = 2 * 3 * 32 * (256 + 256)
    head = 256 * 2 + 2
    assert check("09.adapter_size", (lora + head) * 4, tmp_path)
    assert not check("09.adapter_size", lora * 2 * 4, tmp_path)
    assert not check("09.adapter_size", 1000, tmp_path / "missing")

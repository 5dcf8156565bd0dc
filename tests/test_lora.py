"""LoRA from scratch equals peft's LoRA layer; the lesson 09 exercise checks pass and hint."""

from __future__ import annotations

import json

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


def test_exercise_memory_estimate(capsys):
    assert check(
        "09.memory_estimate", lambda total, trainable, b: (total * b + trainable * 12) / 1e9
    )
    assert not check("09.memory_estimate", lambda total, trainable, b: total * 16 / 1e9)
    assert "trainable" in capsys.readouterr().out


def _tiny_bert(tmp_path, r, targets, trained=True):
    """A small BERT classifier with a rank-r adapter (B made non-zero: 'trained'), saved."""
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        num_labels=2,
    )
    model = get_peft_model(
        BertForSequenceClassification(config),
        LoraConfig(task_type="SEQ_CLS", r=r, target_modules=targets),
    )
    if trained:
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if "lora_B" in name:
                    parameter.normal_()
    model.save_pretrained(tmp_path)
    return tmp_path


def test_exercise_adapter_size_counts_the_head_exactly(tmp_path):
    folder = _tiny_bert(tmp_path, 32, ["query", "key", "value"], trained=False)
    lora = 2 * 3 * 32 * (64 + 64)
    head = 64 * 2 + 2
    assert check("09.adapter_size", (lora + head) * 4, folder)
    assert not check("09.adapter_size", lora * 4, folder), "the head must be counted"
    file_size = (folder / "adapter_model.safetensors").stat().st_size
    assert not check("09.adapter_size", file_size, folder), "the header is not a tensor"
    assert not check("09.adapter_size", (lora + head) * 4 + 4, folder), "exact, not within 2%"
    assert not check("09.adapter_size", 1000, tmp_path / "missing")


def test_exercise_adapter_size_needs_the_head_in_the_file(tmp_path, capsys):
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
    )
    # no task_type: peft adapts the layers but does not save the new head
    model = get_peft_model(
        BertForSequenceClassification(config),
        LoraConfig(r=32, target_modules=["query", "key", "value"]),
    )
    model.save_pretrained(tmp_path)
    assert not check("09.adapter_size", 2 * 3 * 32 * 128 * 4, tmp_path)
    assert "SEQ_CLS" in capsys.readouterr().out


def test_exercise_update_rank_reads_the_saved_adapters(tmp_path, capsys):
    from tutorial_utils.exercises.lesson09 import update_ranks

    folders = {r: _tiny_bert(tmp_path / f"r{r}", r, ["query", "value"]) for r in (2, 5)}
    ranks = update_ranks(folders[5] / "adapter_model.safetensors")
    assert len(ranks) == 2 * 2 and set(ranks.values()) == {5}
    assert check("09.update_rank", {2: 2, 5: 5}, folders)
    assert not check("09.update_rank", {2: 2, 5: 64}, folders)
    assert "cannot exceed" in capsys.readouterr().out
    assert not check("09.update_rank", {2: 1, 5: 5}, folders)
    assert not check("09.update_rank", {2: 2}, folders)
    untrained = {3: _tiny_bert(tmp_path / "zero", 3, ["query"], trained=False)}
    assert check("09.update_rank", {3: 0}, untrained)  # B = 0: no update yet


def _gradient_run(folder, world_size, average, scale):
    from safetensors.torch import save_file

    folder.mkdir()
    torch.manual_seed(0)
    gradients = {"a": torch.randn(4, 3) * scale, "b": torch.randn(5) * scale}
    save_file(gradients, str(folder / "gradients.safetensors"))
    results = {"world_size": world_size, "average_tokens_across_devices": average}
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def test_exercise_gradient_ratio(tmp_path, capsys):
    one = _gradient_run(tmp_path / "one", 1, False, 1.0)
    many = _gradient_run(tmp_path / "many", 2, True, 2.0)
    assert check("09.gradient_ratio", 2, one, many)
    assert not check("09.gradient_ratio", 1, one, many)
    assert "multiplies" in capsys.readouterr().out
    assert not check("09.gradient_ratio", 0.5, one, many)
    default = _gradient_run(tmp_path / "default", 2, False, 1.0)
    assert not check("09.gradient_ratio", 1, one, default), "the run must turn the option on"
    assert not check("09.gradient_ratio", 2, many, many), "the reference is one process"


def test_base_model_name_is_the_hub_id_of_the_offline_encoder(tmp_path):
    from tutorial_utils.integrity import MINILM_WEIGHTS, packaged_file
    from tutorial_utils.lora import MINILM_HUB_ID, base_model_name

    assert base_model_name("bert-base-uncased") == "bert-base-uncased"  # online: a Hub id
    folder = packaged_file(MINILM_WEIGHTS, verify=False).parent
    assert base_model_name(str(folder)) == MINILM_HUB_ID
    assert base_model_name(str(tmp_path)) == str(tmp_path)  # elsewhere: left as it is

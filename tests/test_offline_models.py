"""The offline models built by tutorial_utils.offline_models meet their bars; damaged entries rebuild.

The quality tests use the real cache entries (built on first use, a few minutes each, then
reused); the rebuild test uses a private cache and a tiny build function, so it is fast.
"""

from __future__ import annotations

import json

import pytest

from tutorial_utils import cache, offline_models

POSITIVE_SENTENCE = "I love using transformers, it's so easy and powerful!"


@pytest.fixture(scope="module")
def sentiment_folder():
    return offline_models.sentiment_model_dir(progress=False)


@pytest.fixture(scope="module")
def fill_mask_folder():
    return offline_models.fill_mask_model_dir(progress=False)


def test_sentiment_model_meets_its_bar(sentiment_folder):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from tutorial_utils import load_reviews

    model = AutoModelForSequenceClassification.from_pretrained(sentiment_folder)
    tokenizer = AutoTokenizer.from_pretrained(sentiment_folder)
    assert model.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    test = load_reviews("rotten_tomatoes", verbose=False)["test"]
    assert len(test) >= 400
    accuracy = offline_models.sentiment_accuracy(
        model, tokenizer, list(test["text"]), list(test["label"])
    )
    assert accuracy >= offline_models.SENTIMENT_BAR, f"test accuracy {accuracy:.3f}"


def test_fill_mask_model_meets_its_bar(fill_mask_folder):
    from transformers import AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

    from tutorial_utils import load_reviews

    model = AutoModelForMaskedLM.from_pretrained(fill_mask_folder)
    tokenizer = AutoTokenizer.from_pretrained(fill_mask_folder)
    assert isinstance(model, BertForMaskedLM)
    assert (
        model.cls.predictions.decoder.weight.data_ptr()
        == model.bert.embeddings.word_embeddings.weight.data_ptr()
    ), "output layer not tied"
    # a fixed held-out sample: the first 100 reviews of the IMDB test split, fixed masks
    test = load_reviews("imdb", verbose=False)["test"].select(range(100))
    chunks = offline_models.fill_mask.chunks_of(tokenizer, list(test["text"]), 64)[:200]
    assert len(chunks) == 200
    top5 = offline_models.masked_top_k_accuracy(model, tokenizer, chunks, k=5, seed=123)
    assert top5 >= offline_models.FILL_MASK_BAR, f"held-out top-5 accuracy {top5:.3f}"


def test_fill_mask_pipeline_predicts_quality_words(fill_mask_folder):
    from transformers import pipeline

    unmasker = pipeline(
        "fill-mask", model=str(fill_mask_folder), tokenizer=str(fill_mask_folder), device="cpu"
    )
    words = [row["token_str"].strip() for row in unmasker(offline_models.PROBE_SENTENCE, top_k=5)]
    assert offline_models.QUALITY_WORDS & set(words), f"top 5 for the probe: {words}"


def test_built_figures_are_recorded(sentiment_folder, fill_mask_folder):
    sentiment = offline_models.built_model_figures("sentiment")
    assert sentiment["accuracy"] >= offline_models.SENTIMENT_BAR
    assert sentiment["steps"] > 0 and sentiment["seconds"] > 0
    fill_mask = offline_models.built_model_figures("fill-mask")
    assert fill_mask["top5_accuracy"] >= offline_models.FILL_MASK_BAR
    assert len(fill_mask["probe_top5"]) == 5
    with pytest.raises(ValueError, match="built roles"):
        offline_models.built_model_figures("generator")


def test_sentiment_pipeline_from_checkpoint(sentiment_folder):
    from transformers import pipeline

    import tutorial_utils as tu

    classifier = pipeline("text-classification", model=tu.checkpoint("sentiment"))
    result = classifier(POSITIVE_SENTENCE)[0]
    assert result["label"] == "POSITIVE" and result["score"] > 0.8, result
    negative = classifier("A dull, lifeless and badly acted film.")[0]
    assert negative["label"] == "NEGATIVE", negative


def test_corrupted_entry_is_detected_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(cache, "_checked", set())
    calls = []

    def tiny_build(folder, progress=True):
        calls.append(folder)
        (folder / "model.safetensors").write_bytes(b"weights" * 100)
        (folder / "config.json").write_text(
            json.dumps({"id2label": offline_models.ID2LABEL}), encoding="utf-8"
        )
        return {"accuracy": 0.9, "steps": 1, "seconds": 0.1}

    monkeypatch.setattr(offline_models.sentiment.SOURCE, "build", tiny_build)
    folder = offline_models.sentiment_model_dir(progress=False)
    assert folder.parent == tmp_path and len(calls) == 1
    assert offline_models.built_model_figures("sentiment")["accuracy"] == 0.9

    cache._checked.clear()  # a new session checks the entry again
    assert offline_models.sentiment_model_dir(progress=False) == folder and len(calls) == 1

    weights = folder / "model.safetensors"
    weights.write_bytes(b"Weights" * 100)  # same size, different content
    cache._checked.clear()
    assert cache.entry_problem(folder, offline_models.SENTIMENT_RECIPE) is not None
    rebuilt = offline_models.sentiment_model_dir(progress=False)
    assert rebuilt == folder and len(calls) == 2
    assert weights.read_bytes() == b"weights" * 100
    assert cache.entry_problem(folder, offline_models.SENTIMENT_RECIPE) is None

    (folder / cache.MANIFEST).unlink()  # a half-written entry has no manifest
    cache._checked.clear()
    offline_models.sentiment_model_dir(progress=False)
    assert len(calls) == 3

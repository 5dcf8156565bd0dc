"""The offline Chinese models (zh-sentiment, zh-ner, zh-encoder) meet their bars and load
like any model; zh-fill-mask has no offline model and says why; zh-chat is SmolLM2 offline.

The quality figures are the build report's (``MANIFEST.json`` of the real cache entries,
built on first use, about 5 minutes for both, then reused); loading goes through
``AutoTokenizer`` / ``AutoModelFor...`` / ``pipeline`` on the cached folders.
"""

from __future__ import annotations

import pytest

import tutorial_utils as tu
from tutorial_utils import loading, offline_models, roles
from tutorial_utils.chinese_data import NER_LABELS, entities, load_chinese_ner, words_to_bio
from tutorial_utils.offline_models import zh_ner, zh_sentiment, zh_vocab


@pytest.fixture(scope="module")
def sentiment_folder():
    return zh_sentiment.zh_sentiment_model_dir(progress=False)


@pytest.fixture(scope="module")
def ner_folder():
    return zh_ner.zh_ner_model_dir(progress=False)


def test_zh_roles_are_registered_with_their_online_models():
    expected = {
        "zh-sentiment": "uer/roberta-base-finetuned-dianping-chinese",
        "zh-ner": "uer/roberta-base-finetuned-cluener2020-chinese",
        "zh-encoder": "hfl/rbt3",
        "zh-fill-mask": "bert-base-chinese",
        "zh-chat": "Qwen/Qwen2.5-0.5B-Instruct",
    }
    assert {n: roles.ROLES[n].online_id for n in expected} == expected
    assert roles.ROLES["zh-sentiment"].offline is zh_sentiment.SOURCE
    assert roles.ROLES["zh-encoder"].offline is zh_sentiment.SOURCE
    assert roles.ROLES["zh-ner"].offline is zh_ner.SOURCE
    assert roles.ROLES["zh-chat"].offline is roles.ROLES["chat"].offline
    assert {"zh-sentiment", "zh-ner"} <= set(roles.built_models())
    served = {r for step in roles.prepare_steps() for r in step.roles}
    assert {"zh-sentiment", "zh-ner", "zh-encoder", "zh-chat"} <= served


def test_zh_fill_mask_offline_names_its_online_model(monkeypatch):
    monkeypatch.setattr(loading, "hub_status", lambda: (False, "test: offline"))
    with pytest.raises(loading.NoOfflineModelError) as error:
        tu.checkpoint("zh-fill-mask")
    message = str(error.value)
    assert "'bert-base-chinese'" in message and "does not pay" in message and "0.12" in message


def test_zh_sentiment_build_report_meets_its_bar(sentiment_folder):
    figures = offline_models.built_model_figures("zh-sentiment")
    assert figures["bar"] == zh_sentiment.BAR == 0.82
    assert figures["accuracy"] >= zh_sentiment.BAR, figures
    assert 0.5 < figures["baseline_accuracy"] <= 1.0
    assert figures["test_texts"] >= 1500 and figures["steps"] == zh_sentiment.RECIPE.steps
    assert figures["vocab_size"] == zh_vocab.VOCAB_SIZE
    assert figures["unk_rate"] < 0.01


def test_zh_ner_build_report_meets_its_bar(ner_folder):
    figures = offline_models.built_model_figures("zh-ner")
    assert figures["bar"] == zh_ner.BAR == 0.55
    assert figures["f1"] >= zh_ner.BAR, figures
    assert set(figures["f1_per_type"]) == {"PER", "LOC", "ORG"}
    assert figures["test_sentences"] >= 4000 and figures["steps"] == zh_ner.RECIPE.steps


def test_zh_sentiment_folder_loads_with_auto_classes_and_pipeline(sentiment_folder):
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(sentiment_folder)
    assert len(tokenizer) == zh_vocab.VOCAB_SIZE  # not the 5-token trap
    encoded = tokenizer("这本书很好看")
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"]) == [
        "[CLS]", "这", "本", "书", "很", "好", "看", "[SEP]",
    ]  # fmt: skip
    model = AutoModelForSequenceClassification.from_pretrained(sentiment_folder)
    assert model.config.id2label == zh_sentiment.ID2LABEL
    classifier = pipeline("text-classification", model=str(sentiment_folder))
    texts = ["质量很好，非常满意，推荐购买！", "太差了，用了两天就坏了，退货。"]
    results = classifier(texts)
    assert [r["label"] for r in results] == ["positive", "negative"]
    with torch.no_grad():  # the pipeline equals the hand computation
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    assert [model.config.id2label[i] for i in logits.argmax(-1).tolist()] == [
        r["label"] for r in results
    ]
    encoder = AutoModel.from_pretrained(sentiment_folder)  # the offline zh-encoder
    hidden = encoder(**tokenizer("你好", return_tensors="pt")).last_hidden_state
    assert hidden.shape == (1, 4, encoder.config.hidden_size)


def test_zh_ner_folder_loads_with_auto_classes_and_pipeline(ner_folder):
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(ner_folder)
    assert len(tokenizer) == zh_vocab.VOCAB_SIZE
    model = AutoModelForTokenClassification.from_pretrained(ner_folder)
    assert list(model.config.id2label.values()) == NER_LABELS
    test = load_chinese_ner(verbose=False)["test"].select(range(200))
    gold = [[NER_LABELS[t] for t in tags] for tags in test["ner_tags"]]
    predicted = zh_ner.predict_tags(model, tokenizer, test["tokens"])
    assert zh_ner.entity_f1(gold, predicted)["micro"] >= zh_ner.BAR - 0.1
    tagger = pipeline("token-classification", model=str(ner_folder), aggregation_strategy="simple")
    found = tagger("江泽民主席在北京会见了来自上海的代表。")
    assert found and {e["entity_group"] for e in found} <= {"PER", "LOC", "ORG"}


def test_align_labels_gives_minus_100_to_special_and_later_tokens():
    chars, tags = words_to_bio([("江", "nr"), ("泽民", "nr"), ("在", "p"), ("北京", "ns")])
    assert tags == ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert entities(chars, tags) == [("PER", "江泽民"), ("LOC", "北京")]
    labels = [NER_LABELS.index(t) for t in tags]
    word_ids = [None, 0, 1, 2, 3, 4, 4, 5, None]  # character 4 split in two tokens
    assert zh_ner.align_labels(word_ids, labels) == [-100, 1, 2, 2, 0, 3, -100, 4, -100]


def test_window_features_name_each_neighbour_by_its_offset():
    rows = zh_ner.window_features(list("北京市"), width=1)
    assert rows[0] == ["-1:<s>", "0:北", "1:京", "-1,0:<s>北", "0,1:北京"]
    assert rows[2] == ["-1:京", "0:市", "1:</s>", "-1,0:京市", "0,1:市</s>"]
    assert len(zh_ner.window_features([], width=2)) == 0


def test_window_baseline_learns_entities_and_keeps_each_sentence_its_own():
    data = load_chinese_ner(seed=0, verbose=False)
    train, test = data["train"].select(range(1500)), data["test"].select(range(200))
    tags = [[NER_LABELS[t] for t in row] for row in train["ner_tags"]]
    tag = zh_ner.fit_window_baseline(train["tokens"], tags)
    predicted = tag(test["tokens"])
    assert [len(p) for p in predicted] == [len(c) for c in test["tokens"]]
    for i in (0, 7, len(test) - 1):  # the same sentence, the same tags, alone or in a batch
        assert tag([test["tokens"][i]])[0] == predicted[i]
    gold = [[NER_LABELS[t] for t in row] for row in test["ner_tags"]]
    f1 = zh_ner.entity_f1(gold, predicted)["micro"]
    assert 0.4 < f1 <= 1.0, f"the window baseline reached entity F1 {f1:.3f} only"
    with pytest.raises(ValueError, match="one tag per character"):
        zh_ner.window_baseline(train["tokens"][:2], tags[:1], test["tokens"][:1])

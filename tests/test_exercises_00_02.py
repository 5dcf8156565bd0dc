"""Checks of lessons 00-02: right answers pass, the common mistakes get the hint meant for them."""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from tutorial_utils.attention import TransformerEncoderLayer
from tutorial_utils.exercises import check
from tutorial_utils.exercises.lesson00 import NEEDS


class FakeTokenizer:
    """Splits like BERT's pre-tokenizer (words and punctuation); ids from a growing vocabulary."""

    pad_token_id = 0

    def __init__(self) -> None:
        self.vocab = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2}

    def __len__(self) -> int:
        return 200

    def tokenize(self, text: str) -> list[str]:
        return re.findall(r"\w+|[^\w\s]", text.lower())

    def __call__(self, text, return_tensors=None, **kwargs):
        ids = [1] + [self.vocab.setdefault(t, len(self.vocab)) for t in self.tokenize(text)] + [2]
        assert len(self.vocab) < len(self)
        return {
            "input_ids": torch.tensor([ids]),
            "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
        }


class FakeExtractor:
    """A feature-extraction pipeline look-alike: one random vector per token, [CLS] and [SEP] too."""

    def __init__(self) -> None:
        self.tokenizer = FakeTokenizer()

    def __call__(self, text):
        rng = np.random.default_rng(len(text))
        return [rng.normal(size=(len(self.tokenizer.tokenize(text)) + 2, 8)).tolist()]


def _out(capsys) -> str:
    return capsys.readouterr().out


# --- lesson 00 ----------------------------------------------------------------------------------


def test_pipeline_tasks_check(capsys):
    right = dict(NEEDS)
    assert check("00.pipeline_tasks", right)
    aliased = {**right, "say whether a movie review is positive or negative": "sentiment-analysis"}
    assert check("00.pipeline_tasks", aliased)
    assert not check("00.pipeline_tasks", {need: None for need in NEEDS})
    assert "not attempted yet - fill in the answer" in _out(capsys)
    translation = {**right, "translate 'Once upon a time' into French": "translation"}
    assert not check("00.pipeline_tasks", translation)
    assert "transformers 4" in _out(capsys)
    assert not check("00.pipeline_tasks", {**right, next(iter(NEEDS)): "sentiment"})
    assert "not a task" in _out(capsys)
    assert not check("00.pipeline_tasks", {**right, next(iter(NEEDS)): "fill-mask"})
    assert "something else" in _out(capsys)


def test_token_vector_check(capsys):
    extractor = FakeExtractor()

    def right(ex, text, word):
        return np.asarray(ex(text)[0])[ex.tokenizer.tokenize(text).index(word) + 1]

    def off_by_one(ex, text, word):
        return np.asarray(ex(text)[0])[ex.tokenizer.tokenize(text).index(word)]

    assert check("00.token_vector", right, extractor)
    assert not check("00.token_vector", off_by_one, extractor)
    assert "[CLS]" in _out(capsys)
    assert not check("00.token_vector", lambda ex, t, w: np.asarray(ex(t)[0]).mean(0), extractor)
    assert "mean" in _out(capsys)


# --- lesson 01 ----------------------------------------------------------------------------------


def test_read_the_plot_check():
    assert check("01.read_the_plot", "b")
    assert not check("01.read_the_plot", "a")
    assert not check("01.read_the_plot", "yes")


def entropy_right(scores, temperature=1.0):
    return torch.special.entr(torch.softmax(scores / temperature, dim=-1)).sum(-1)


def test_softmax_entropy_check(capsys):
    assert check("01.softmax_entropy", entropy_right)

    def naive(scores, temperature=1.0):  # 0 * log 0 = nan once a weight underflows
        p = torch.softmax(scores / temperature, dim=-1)
        return -(p * p.log()).sum(-1)

    assert not check("01.softmax_entropy", naive)
    assert "NaN" in _out(capsys)
    assert not check("01.softmax_entropy", lambda s, t=1.0: entropy_right(s, t) / math.log(2))
    assert "bits" in _out(capsys)
    assert not check("01.softmax_entropy", lambda s, t=1.0: entropy_right(s))
    assert "temperature" in _out(capsys)
    assert not check("01.softmax_entropy", lambda s, t=1.0: entropy_right(s, t).unsqueeze(-1))
    assert not check("01.softmax_entropy", lambda s, t=1.0: -entropy_right(s, t))
    assert "sign" in _out(capsys)


def test_additive_mask_check(capsys):
    def right(attention_mask):
        blocked = (attention_mask == 0)[:, None, None, :]
        return torch.zeros(blocked.shape).masked_fill(blocked, float("-inf"))

    assert check("01.additive_mask", right)
    assert check("01.additive_mask", lambda m: (1.0 - m[:, None, None, :].float()) * -1e9)
    assert not check("01.additive_mask", lambda m: m.bool()[:, None, None, :])
    assert "boolean" in _out(capsys)
    assert not check("01.additive_mask", lambda m: m[:, None, None, :].float())
    assert "blocks nothing" in _out(capsys)
    assert not check("01.additive_mask", lambda m: right(1 - m))
    assert "real tokens" in _out(capsys)
    assert not check("01.additive_mask", lambda m: right(m)[:, 0, 0, :])
    assert "(batch, 1, 1, L)" in _out(capsys)


def test_head_count_check(capsys):
    assert check("01.head_count", lambda d, h: 4 * d * d + 4 * d)
    assert not check("01.head_count", lambda d, h: h * (4 * d * d + 4 * d))
    assert "slices" in _out(capsys)
    assert not check("01.head_count", lambda d, h: 4 * d * d)
    assert "biases" in _out(capsys)
    assert not check("01.head_count", lambda d, h: 3 * d * d + 3 * d)
    assert "W^O" in _out(capsys)


# --- lesson 02 ----------------------------------------------------------------------------------


def _logits(model, tokenizer, text):
    encoded = tokenizer(text, return_tensors="pt")
    return model(encoded["input_ids"], encoded["attention_mask"])[0]


def order_effect_right(model, tokenizer, sentence):
    model.eval()
    reversed_words = " ".join(reversed(sentence.split()))
    with torch.no_grad():
        difference = _logits(model, tokenizer, sentence) - _logits(model, tokenizer, reversed_words)
    return difference.abs().max().item()


def test_order_effect_check(capsys):
    tokenizer = FakeTokenizer()
    assert check("02.order_effect", order_effect_right, tokenizer)

    def no_eval(model, tokenizer, sentence):
        reversed_words = " ".join(reversed(sentence.split()))
        with torch.no_grad():
            difference = _logits(model, tokenizer, sentence) - _logits(
                model, tokenizer, reversed_words
            )
        return difference.abs().max().item()

    assert not check("02.order_effect", no_eval, tokenizer)
    assert "eval" in _out(capsys)

    def characters(model, tokenizer, sentence):
        model.eval()
        with torch.no_grad():
            difference = _logits(model, tokenizer, sentence) - _logits(
                model, tokenizer, sentence[::-1]
            )
        return difference.abs().max().item()

    assert not check("02.order_effect", characters, tokenizer)
    assert "characters" in _out(capsys)

    def reversed_ids(model, tokenizer, sentence):
        model.eval()
        encoded = tokenizer(sentence, return_tensors="pt")
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
        with torch.no_grad():
            return (model(ids.flip(-1), mask.flip(-1)) - model(ids, mask)).abs().max().item()

    assert not check("02.order_effect", reversed_ids, tokenizer)
    assert "[CLS]" in _out(capsys)
    assert not check("02.order_effect", lambda m, t, s: 0.0, tokenizer)


def depth_profile_right(norm_first, depth):
    torch.manual_seed(0)
    x = torch.randn(4, 10, 32)
    stds = []
    with torch.no_grad():
        for _ in range(depth):
            x = TransformerEncoderLayer(32, 4, 64, norm_first=norm_first).eval()(x)
            stds.append(x.std().item())
    return stds


def test_norm_depth_check(capsys):
    assert check("02.norm_depth", depth_profile_right)
    assert not check("02.norm_depth", lambda norm_first, depth: depth_profile_right(False, depth))
    assert "identical" in _out(capsys)
    assert not check(
        "02.norm_depth", lambda norm_first, depth: depth_profile_right(not norm_first, depth)
    )
    assert "swapped" in _out(capsys)
    assert not check(
        "02.norm_depth", lambda norm_first, depth: [1.0] + depth_profile_right(norm_first, depth)
    )
    assert "12 numbers" in _out(capsys)


def occlusion_right(model, tokenizer, sentence):
    model.eval()
    words = sentence.split()
    with torch.no_grad():
        full = torch.softmax(_logits(model, tokenizer, sentence), -1)
        label = int(full.argmax())
        drops = []
        for i in range(len(words)):
            shorter = " ".join(words[:i] + words[i + 1 :])
            drops.append(
                float(full[label] - torch.softmax(_logits(model, tokenizer, shorter), -1)[label])
            )
    return drops


def test_occlusion_check(capsys):
    tokenizer = FakeTokenizer()
    assert check("02.occlusion", occlusion_right, tokenizer)
    assert not check(
        "02.occlusion", lambda m, t, s: [-d for d in occlusion_right(m, t, s)], tokenizer
    )
    assert "sign" in _out(capsys)

    def winning_label(model, tokenizer, sentence):  # what tu.classifier.predict's probability gives
        model.eval()
        words = sentence.split()
        with torch.no_grad():
            full = torch.softmax(_logits(model, tokenizer, sentence), -1).max().item()
            return [
                full
                - torch.softmax(_logits(model, tokenizer, " ".join(words[:i] + words[i + 1 :])), -1)
                .max()
                .item()
                for i in range(len(words))
            ]

    assert not check("02.occlusion", winning_label, tokenizer)
    assert "new" in _out(capsys)

    def no_eval_really(model, tokenizer, sentence):
        model.train()
        words = sentence.split()
        with torch.no_grad():
            full = torch.softmax(_logits(model, tokenizer, sentence), -1)
            return [float(full[0])] * len(words)

    assert not check("02.occlusion", no_eval_really, tokenizer)
    assert "dropout" in _out(capsys)
    assert not check("02.occlusion", lambda m, t, s: occlusion_right(m, t, s)[:-1], tokenizer)
    assert "one per word" in _out(capsys)

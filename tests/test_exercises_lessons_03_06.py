"""The checks of lessons 03-06 pass right answers and give the intended hint for wrong ones.

Each check is run on small stand-ins (a fake text-generation pipeline, a tiny random BERT, an
in-memory dataset) so that the tests stay fast; the solution notebooks run them on the real
models.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tutorial_utils.exercises import check

# --- lesson 03 ---------------------------------------------------------------------------------


class FakeTokenizer:
    """Whitespace 'tokenizer': one id per word."""

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": [len(word) for word in text.split()]}


class FakeGenerator:
    """Behaves like a text-generation pipeline with return_tensors=True."""

    tokenizer = FakeTokenizer()

    def __call__(self, prompt, do_sample=False, return_tensors=False, **settings):
        ids = self.tokenizer(prompt)["input_ids"]
        new = settings.get("max_new_tokens", settings.get("max_length", 0) - len(ids))
        ids = ids + [7] * new
        if return_tensors:
            return [{"generated_token_ids": ids}]
        return [{"generated_text": prompt + " x" * new}]


def _new_tokens(generator, prompt, **settings):
    out = generator(prompt, do_sample=False, return_tensors=True, **settings)
    return len(out[0]["generated_token_ids"]) - len(generator.tokenizer(prompt)["input_ids"])


def test_new_tokens_check(capsys):
    generator = FakeGenerator()
    assert check("03.new_tokens", _new_tokens, generator)

    def whole_sequence(generator, prompt, **settings):
        out = generator(prompt, do_sample=False, return_tensors=True, **settings)
        return len(out[0]["generated_token_ids"])

    assert not check("03.new_tokens", whole_sequence, generator)
    assert "include the prompt" in capsys.readouterr().out

    def ignores_settings(generator, prompt, **settings):
        return _new_tokens(generator, prompt, max_new_tokens=4)

    assert not check("03.new_tokens", ignores_settings, generator)
    assert "Pass **settings" in capsys.readouterr().out


@pytest.fixture(scope="module")
def bert_tokenizer():
    from transformers import AutoTokenizer

    import tutorial_utils as tu

    return AutoTokenizer.from_pretrained(tu.checkpoint("embedder"))


@pytest.fixture(scope="module")
def chat_tokenizer(bert_tokenizer):
    import copy

    tokenizer = copy.deepcopy(bert_tokenizer)
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    return tokenizer


def _generation_prompt(tokenizer, messages):
    full = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    bare = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    return full[len(bare) :]


def test_generation_prompt_check(chat_tokenizer, capsys):
    assert check("03.generation_prompt", _generation_prompt, chat_tokenizer)

    def whole(tokenizer, messages):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    assert not check("03.generation_prompt", whole, chat_tokenizer)
    assert "whole rendered conversation" in capsys.readouterr().out

    def ids(tokenizer, messages):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True)

    assert not check("03.generation_prompt", ids, chat_tokenizer)
    assert "tokenize=False" in capsys.readouterr().out

    assert not check("03.generation_prompt", lambda t, m: "<assistant>", chat_tokenizer)
    assert "do not type the text in" in capsys.readouterr().out


def test_mean_pool_check(capsys):
    def masked(hidden, mask):
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1)

    assert check("03.mean_pool", masked)
    assert not check("03.mean_pool", lambda hidden, mask: hidden.mean(1))
    assert "must not count" in capsys.readouterr().out


# --- lesson 04 ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_classifier(bert_tokenizer):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(bert_tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=2,
        initializer_range=0.5,  # large random weights: padding visibly moves the logits
    )
    return BertForSequenceClassification(config).eval()


def _unmasked_shift(model, tokenizer, text, n_pad):
    ids = tokenizer(text)["input_ids"]
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([ids], device=model.device)).logits
        padded = torch.tensor([ids + [tokenizer.pad_token_id] * n_pad], device=model.device)
        return (model(input_ids=padded).logits - alone).abs().max().item()


def test_unmasked_shift_check(tiny_classifier, bert_tokenizer, capsys):
    assert check("04.unmasked_shift", _unmasked_shift, tiny_classifier, bert_tokenizer)

    def with_mask(model, tokenizer, text, n_pad):
        ids = tokenizer(text)["input_ids"]
        padded = torch.tensor([ids + [tokenizer.pad_token_id] * n_pad])
        mask = (padded != tokenizer.pad_token_id).long()
        with torch.no_grad():
            alone = model(input_ids=torch.tensor([ids])).logits
            return (model(input_ids=padded, attention_mask=mask).logits - alone).abs().max().item()

    assert not check("04.unmasked_shift", with_mask, tiny_classifier, bert_tokenizer)
    assert "attention mask" in capsys.readouterr().out

    def signed(model, tokenizer, text, n_pad):
        return -_unmasked_shift(model, tokenizer, text, n_pad)

    assert not check("04.unmasked_shift", signed, tiny_classifier, bert_tokenizer)
    assert "absolute" in capsys.readouterr().out


# --- lesson 05 ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_reviews():
    from datasets import ClassLabel, Dataset, Features, Value

    texts = ["good", "very bad film", "a b c d e f g h i", "fine", "awful awful", "one two three"]
    labels = [1, 0, 1, 1, 0, 0]
    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    return Dataset.from_dict({"text": texts, "label": labels}, features=features)


def test_short_reviews_check(tiny_reviews, capsys):
    short = tiny_reviews.filter(lambda row: len(row["text"].split()) < 8)
    share = float(np.mean(short["label"]))
    assert check("05.short_reviews", short, share, tiny_reviews)
    assert not check("05.short_reviews", short, 1 - share, tiny_reviews)
    assert "negative" in capsys.readouterr().out
    assert not check("05.short_reviews", short, 100 * share, tiny_reviews)
    assert "percentage" in capsys.readouterr().out
    assert not check("05.short_reviews", tiny_reviews, share, tiny_reviews)
    assert "8 words or more" in capsys.readouterr().out


# --- lesson 06 ---------------------------------------------------------------------------------


def _training_args(tmp_path, **changes):
    from transformers import TrainingArguments

    settings = {
        "output_dir": str(tmp_path / "exercise"),
        "num_train_epochs": 3,
        "eval_strategy": "epoch",
        "logging_strategy": "epoch",
        "lr_scheduler_type": "cosine",
        "learning_rate": 3e-5,
        "warmup_steps": 0.06,
        "weight_decay": 0.1,
        "train_sampling_strategy": "group_by_length",
        "report_to": "none",
        "use_cpu": True,
        **changes,
    }
    return TrainingArguments(**settings)


def test_training_args_check(tmp_path, capsys):
    assert check("06.training_args", _training_args(tmp_path), tmp_path)
    assert not check("06.training_args", _training_args(tmp_path, warmup_steps=6), tmp_path)
    assert "warmup_steps=6 means 6 steps" in capsys.readouterr().out
    assert not check(
        "06.training_args", _training_args(tmp_path, logging_strategy="steps"), tmp_path
    )
    assert "logging_strategy" in capsys.readouterr().out


def _rate(step, total, peak, warmup, rounding=math.ceil, raw_fraction=False, decay_from_zero=False):
    warmup_steps = (
        warmup
        if (raw_fraction and warmup < 1)
        else (int(warmup) if warmup >= 1 else rounding(warmup * total))
    )
    if step < warmup_steps:
        return peak * step / warmup_steps
    start = 0 if decay_from_zero else warmup_steps
    return peak * max(0.0, (total - step) / max(1e-12, total - start))


@pytest.mark.parametrize(
    "mistake, hint",
    [
        ({"rounding": int}, "rounds the fraction up"),
        ({"raw_fraction": True}, "not a number of steps"),
        ({"decay_from_zero": True}, "end of the warm-up"),
    ],
)
def test_learning_rate_schedule_check(mistake, hint, capsys):
    assert check("06.learning_rate_schedule", _rate)
    capsys.readouterr()
    assert not check("06.learning_rate_schedule", lambda s, t, p, w: _rate(s, t, p, w, **mistake))
    assert hint in capsys.readouterr().out

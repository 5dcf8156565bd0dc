"""Checks of lesson 02 (a Transformer encoder from scratch): word order, pre/post-norm, occlusion."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

from ..classifier import TransformerClassifier
from . import Hint, exercise, require

_SENTENCES = (
    "A dull, lifeless film with a predictable plot.",
    "The acting is wonderful and the story is moving.",
)


def _small_classifier(tokenizer: Any, seed: int, positions: bool = True) -> TransformerClassifier:
    """A freshly built (untrained) classifier in train mode, as TransformerClassifier(...) gives it."""
    torch.manual_seed(seed)
    model = TransformerClassifier(
        vocab_size=len(tokenizer),
        d_model=32,
        num_heads=4,
        num_layers=2,
        dim_feedforward=64,
        max_len=64,
        dropout=0.1,
        pad_id=tokenizer.pad_token_id or 0,
    )
    with torch.no_grad():
        model.embedding.weight.mul_(0.3)  # word vectors the size of the positions' effect
        model.positional_embedding.normal_(std=0.5)  # strong positions: order visibly matters
        if not positions:
            model.positional_embedding.zero_()
    return model


@torch.no_grad()
def _logits(model: TransformerClassifier, tokenizer: Any, text: str) -> torch.Tensor:
    encoded = tokenizer(text, return_tensors="pt")
    return model(encoded["input_ids"], encoded["attention_mask"])[0]


def _reference_order_effect(model: TransformerClassifier, tokenizer: Any, sentence: str) -> float:
    model = copy.deepcopy(model).eval()
    reversed_words = " ".join(reversed(sentence.split()))
    difference = _logits(model, tokenizer, sentence) - _logits(model, tokenizer, reversed_words)
    return float(difference.abs().max())


@exercise("02.order_effect")
def check_order_effect(order_effect: Callable[..., Any], tokenizer: Any) -> None:
    """``order_effect(model, tokenizer, sentence)``: max |logits(words) - logits(reversed words)|."""
    require(
        callable(order_effect),
        "pass the function itself: check('02.order_effect', order_effect, tokenizer).",
    )
    for sentence in _SENTENCES:
        blind = _small_classifier(
            tokenizer, seed=21, positions=False
        )  # train mode, like a new model
        answer = order_effect(blind, tokenizer, sentence)
        require(
            isinstance(answer, int | float | torch.Tensor) and torch.as_tensor(answer).numel() == 1,
            f"return one number (the largest absolute difference), got {type(answer).__name__}.",
        )
        answer = float(answer)
        if answer > 1e-4:
            reference = _reference_order_effect(blind, tokenizer, sentence)
            if reference < 1e-5:
                if answer > 1e-2 and abs(answer - order_effect(blind, tokenizer, sentence)) > 1e-6:
                    raise Hint(
                        "two calls on the same model and sentence gave different numbers: dropout "
                        "is on. A freshly built model is in train mode: call model.eval() first."
                    )
                characters = float(
                    (
                        _logits(blind.eval(), tokenizer, sentence)
                        - _logits(blind.eval(), tokenizer, sentence[::-1])
                    )
                    .abs()
                    .max()
                )
                if abs(answer - characters) < 1e-5:
                    raise Hint(
                        "sentence[::-1] reverses the characters (new 'words'): reverse the order "
                        "of the words, ' '.join(reversed(sentence.split()))."
                    )
                raise Hint(
                    "for a model without positions (positional_embedding all zero) the words in "
                    "reverse order give the same logits, so the answer should be ~0. Did you "
                    "reverse the words and compare the logits in eval mode?"
                )
        positioned = _small_classifier(tokenizer, seed=22, positions=True)
        expected = _reference_order_effect(positioned, tokenizer, sentence)
        answer = float(order_effect(positioned, tokenizer, sentence))
        if abs(answer - expected) > 1e-4 + 1e-3 * expected:
            encoded = tokenizer(sentence, return_tensors="pt")
            ids, mask = encoded["input_ids"], encoded["attention_mask"]
            with torch.no_grad():
                flipped = positioned.eval()(ids.flip(-1), mask.flip(-1)) - positioned(ids, mask)
            if abs(answer - float(flipped.abs().max())) < 1e-5:
                raise Hint(
                    "you reversed the token ids, which moves [CLS] to the end and [SEP] to the "
                    "front: reverse the words of the text, then tokenise it."
                )
        require(
            abs(answer - expected) <= 1e-4 + 1e-3 * expected,
            f"with positions, reversing the words of {sentence!r} should change the logits by "
            f"{expected:.4f} at most (largest absolute difference), got {answer:.4f}. Compare "
            "model(...) outputs (the logits, not probabilities) in eval mode.",
        )


@exercise("02.norm_depth")
def check_norm_depth(depth_profile: Callable[..., Any]) -> None:
    """``depth_profile(norm_first, depth)``: the std of the output after each of ``depth`` layers."""
    require(
        callable(depth_profile),
        "pass the function itself: check('02.norm_depth', depth_profile).",
    )
    profiles = {}
    for norm_first in (False, True):
        profile = depth_profile(norm_first, 12)
        try:
            values = [float(v) for v in profile]
        except TypeError as error:
            raise Hint(f"return a list of numbers, got {type(profile).__name__}.") from error
        require(
            len(values) == 12,
            f"for depth 12 return 12 numbers (the std after each layer), got {len(values)}: "
            "measure after every layer, not the input.",
        )
        profiles[norm_first] = values
    post, pre = profiles[False], profiles[True]
    require(
        post != pre,
        "the two profiles are identical: build the layers with "
        "tu.attention.TransformerEncoderLayer(..., norm_first=norm_first).",
    )
    if all(0.97 < v < 1.03 for v in pre) and pre[-1] < 1.1 * pre[0]:
        raise Hint(
            "the profiles look swapped: the *post*-norm layer ends with a LayerNorm (std 1 after "
            "every layer), the pre-norm one adds to the residual stream. Is norm_first=True the "
            "pre-norm layer in your function?"
        )
    require(
        all(0.97 < v < 1.03 for v in post),
        "a post-norm layer ends with a LayerNorm, so its output has std 1 after every layer; "
        f"your post-norm values are {[round(v, 2) for v in post]}. Measure x.std() of each "
        "layer's output in eval mode.",
    )
    require(
        pre[-1] > 1.2 * pre[0],
        "with pre-norm, each layer adds its sub-layers' outputs to an un-normalised residual "
        "stream, which grows with depth; your pre-norm values do not grow: "
        f"{[round(v, 2) for v in pre]}. Feed each layer the previous layer's output.",
    )


def _probabilities(model: TransformerClassifier, tokenizer: Any, text: str) -> torch.Tensor:
    return torch.softmax(_logits(model, tokenizer, text), dim=-1)


def _reference_occlusion(
    model: TransformerClassifier, tokenizer: Any, sentence: str
) -> list[float]:
    model = copy.deepcopy(model).eval()
    words = sentence.split()
    full = _probabilities(model, tokenizer, sentence)
    label = int(full.argmax())
    drops = []
    for i in range(len(words)):
        shorter = " ".join(words[:i] + words[i + 1 :])
        drops.append(float(full[label] - _probabilities(model, tokenizer, shorter)[label]))
    return drops


@exercise("02.occlusion")
def check_occlusion(occlusion: Callable[..., Any], tokenizer: Any) -> None:
    """``occlusion(model, tokenizer, sentence)``: per word, p(label) - p(label without the word)."""
    require(
        callable(occlusion),
        "pass the function itself: check('02.occlusion', occlusion, tokenizer).",
    )
    for seed, sentence in zip((23, 24), _SENTENCES, strict=True):
        model = _small_classifier(tokenizer, seed=seed)
        answer = occlusion(model, tokenizer, sentence)
        try:
            drops = [float(v) for v in answer]
        except TypeError as error:
            raise Hint(
                f"return a list with one number per word, got {type(answer).__name__}."
            ) from error
        words = sentence.split()
        require(
            len(drops) == len(words),
            f"{sentence!r} has {len(words)} words (sentence.split()), you returned {len(drops)} "
            "numbers: one per word.",
        )
        again = [float(v) for v in occlusion(model, tokenizer, sentence)]
        require(
            max(abs(a - b) for a, b in zip(drops, again, strict=True)) < 1e-6,
            "two calls gave different numbers: dropout is on. Call model.eval() first.",
        )
        expected = _reference_occlusion(model, tokenizer, sentence)
        if all(abs(a - e) < 1e-5 for a, e in zip(drops, expected, strict=True)):
            continue
        if all(abs(a + e) < 1e-5 for a, e in zip(drops, expected, strict=True)):
            raise Hint(
                "the sign is flipped: drop = p(full sentence) - p(without the word), positive "
                "when removing the word makes the model less sure of its answer."
            )
        raise Hint(
            "measure the probability of the label predicted for the *full* sentence, with and "
            "without each word (softmax of the logits in eval mode). Careful: when removing a "
            "word flips the prediction, tu.classifier.predict reports the *new* label's "
            "probability, which is not the one to compare."
        )

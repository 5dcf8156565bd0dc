"""Checks for lesson 04 (tokenizers and the Auto* classes)."""

from __future__ import annotations

from collections.abc import Callable

from . import exercise, require

CLASSIFY_TEXTS = [
    "The first sentence!",
    "I love using transformers, it's so easy and powerful!",
    "Two hours of my life I will never get back.",
]
PAIRS = [
    ("The first sentence!", "The second sentence!"),
    ("How are you?", "I am fine, thank you, and you?"),
]


@exercise("04.second_segment")
def check_second_segment(second_segment: Callable, tokenizer) -> None:
    """``second_segment(tokenizer, first, second)`` -> tokens whose token_type_id is 1."""
    for first, second in PAIRS:
        encoding = tokenizer(first, second)
        tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
        expected = [t for t, s in zip(tokens, encoding["token_type_ids"], strict=True) if s == 1]
        answer = second_segment(tokenizer, first, second)
        require(
            isinstance(answer, list), f"return a list of token strings, not {type(answer).__name__}"
        )
        require(
            all(isinstance(t, str) for t in answer),
            "return token strings (convert_ids_to_tokens), not ids",
        )
        require(
            answer != tokenizer.tokenize(second),
            "encode the two sentences together, tokenizer(first, second), and keep the "
            "tokens whose token_type_id is 1: the closing [SEP] belongs to them too",
        )
        require(answer == expected, f"for {first!r} + {second!r} expected {expected}, got {answer}")


@exercise("04.real_lengths")
def check_real_lengths(real_lengths: Callable, tokenizer) -> None:
    """``real_lengths(batch)`` -> number of real (non-padding) tokens of each row."""
    texts = ["Short.", "A somewhat longer sentence than the first one.", "Medium length here."]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    expected = [len(tokenizer(t)["input_ids"]) for t in texts]
    answer = real_lengths(batch)
    try:
        answer = [int(x) for x in answer]
    except TypeError as error:
        raise AssertionError("return one number per row (a list or a 1-D tensor)") from error
    width = batch["input_ids"].shape[1]
    require(
        answer != [width] * len(texts),
        "every row is padded to the same width: count only the positions where attention_mask is 1",
    )
    require(answer == expected, f"expected {expected} (special tokens included), got {answer}")


@exercise("04.classify")
def check_classify(classify: Callable, tokenizer, model) -> None:
    """``classify(texts, tokenizer, model)`` -> [{"label", "score"}] like the pipeline."""
    from transformers import pipeline

    reference = pipeline(
        "text-classification", model=model, tokenizer=tokenizer, device=model.device
    )(CLASSIFY_TEXTS)
    answer = classify(CLASSIFY_TEXTS, tokenizer, model)
    require(
        isinstance(answer, list) and len(answer) == len(CLASSIFY_TEXTS),
        f"return a list with one dict per text ({len(CLASSIFY_TEXTS)} here)",
    )
    for text, got, want in zip(CLASSIFY_TEXTS, answer, reference, strict=True):
        require(
            isinstance(got, dict) and {"label", "score"} <= set(got),
            "each item should be a dict with keys 'label' and 'score'",
        )
        require(
            got["label"] == want["label"],
            f"{text!r}: expected label {want['label']!r}, got {got['label']!r}; map the "
            "argmax id to a name with model.config.id2label",
        )
        score = float(got["score"])
        require(
            0.0 <= score <= 1.0,
            f"{text!r}: a score of {score:.3f} is not a probability: apply softmax to the logits",
        )
        require(
            abs(score - want["score"]) < 1e-4,
            f"{text!r}: expected score {want['score']:.4f}, got {score:.4f}",
        )

"""Checks for lesson 04 (tokenizers and the Auto* classes): pairs, real lengths, the mask."""

from __future__ import annotations

from collections.abc import Callable

from . import exercise, require

SHIFT_TEXT = "Two hours of my life I will never get back."
SHIFT_PADDING = (3, 12)
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


@exercise("04.unmasked_shift")
def check_unmasked_shift(unmasked_shift: Callable, model, tokenizer) -> None:
    """``unmasked_shift(model, tokenizer, text, n_pad)`` -> largest logit change, no mask."""
    import torch

    require(callable(unmasked_shift), "pass the function itself (no parentheses).")
    text = SHIFT_TEXT
    ids = tokenizer(text)["input_ids"]
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([ids], device=model.device)).logits
    seen = []
    for n_pad in SHIFT_PADDING:
        padded = torch.tensor([ids + [tokenizer.pad_token_id] * n_pad], device=model.device)
        with torch.no_grad():
            expected = (model(input_ids=padded).logits - alone).abs().max().item()
        answer = unmasked_shift(model, tokenizer, text, n_pad)
        require(
            isinstance(answer, float | int) or (hasattr(answer, "item") and answer.numel() == 1),
            f"return one number (a float), not {type(answer).__name__}: use .item()",
        )
        answer = float(answer)
        require(
            not (expected > 1e-3 and abs(answer) < 1e-5),
            f"with {n_pad} [PAD] you found no change: you passed an attention mask that hides "
            "the padding. Call the model with input_ids only, so that it attends to every "
            "position",
        )
        require(
            answer >= 0,
            "return the largest *absolute* change: (padded - alone).abs().max()",
        )
        require(
            abs(answer - expected) < 1e-4,
            f"with {n_pad} [PAD] the largest logit change is {expected:.4f}, you returned "
            f"{answer:.4f}: compare the logits of ids + [pad_token_id] * n_pad (no mask) with "
            "those of the ids alone, and take the largest absolute difference",
        )
        seen.append(answer)
    require(
        len(set(seen)) == len(seen),
        "the change should depend on n_pad: append exactly n_pad padding tokens",
    )

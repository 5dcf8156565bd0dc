"""Checks for lesson 03 (pipelines): new tokens, the generation prompt, padded mean pooling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import exercise, require

NEW_TOKEN_CASES = [
    ("Once upon a time", {"max_new_tokens": 4}),
    ("Once upon a time", {"max_length": 9}),
    ("The film", {"max_new_tokens": 3}),
]
CUSTOM_TEMPLATE = (
    "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant]{% endif %}"
)
CHATS = [
    [{"role": "user", "content": "Hello!"}],
    [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What could I try when I cannot sleep?"},
        {"role": "assistant", "content": "A regular bedtime."},
        {"role": "user", "content": "Anything else?"},
    ],
]


@exercise("03.new_tokens")
def check_new_tokens(count_new_tokens: Callable, generator: Callable) -> None:
    """``count_new_tokens(generator, prompt, **settings)`` -> tokens generated after the prompt."""
    require(callable(count_new_tokens), "pass the function itself (no parentheses).")
    for prompt, settings in NEW_TOKEN_CASES:
        ids = generator(prompt, do_sample=False, return_tensors=True, **settings)[0][
            "generated_token_ids"
        ]
        prompt_length = len(generator.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        expected = len(ids) - prompt_length
        answer = count_new_tokens(generator, prompt, **settings)
        require(
            isinstance(answer, int | np.integer),
            f"return one whole number (the count of new tokens), not {type(answer).__name__}",
        )
        answer = int(answer)
        shown = ", ".join(f"{k}={v}" for k, v in settings.items())
        require(
            answer != len(ids),
            f"for {prompt!r} with {shown} you returned {answer}, the length of the whole sequence: "
            "the token ids include the prompt, subtract its length",
        )
        require(
            answer == expected,
            f"for {prompt!r} with {shown} the pipeline generated {expected} new tokens, you "
            f"counted {answer}. Pass **settings on to the pipeline together with "
            "do_sample=False and return_tensors=True, then count "
            "len(out[0]['generated_token_ids']) minus the prompt's tokens",
        )


@exercise("03.generation_prompt")
def check_generation_prompt(generation_prompt: Callable, tokenizer: Any) -> None:
    """``generation_prompt(tokenizer, messages)`` -> text that add_generation_prompt=True appends."""
    import copy

    require(callable(generation_prompt), "pass the function itself (no parentheses).")
    custom = copy.deepcopy(tokenizer)
    custom.chat_template = CUSTOM_TEMPLATE  # a second template: the answer must not be typed in
    for name, tok in (("the chat model's template", tokenizer), ("another template", custom)):
        for messages in CHATS:
            with_prompt = tok.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            without = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
            expected = with_prompt[len(without) :]
            answer = generation_prompt(tok, messages)
            require(
                isinstance(answer, str),
                f"return text, not {type(answer).__name__}: render with tokenize=False "
                "(without it apply_chat_template returns token ids)",
            )
            require(
                answer != with_prompt,
                "that is the whole rendered conversation: return only the part that "
                "add_generation_prompt=True adds at its end",
            )
            require(
                answer != "",
                "the answer is empty: render once with add_generation_prompt=True and once "
                "with add_generation_prompt=False, then keep the difference",
            )
            require(
                answer == expected,
                f"with {name} expected {expected!r}, got {answer!r}: keep what the rendering "
                "with add_generation_prompt=True has beyond the one without it "
                "(do not type the text in: it depends on the template)",
            )


@exercise("03.mean_pool")
def check_mean_pool(mean_pool: Callable) -> None:
    """``mean_pool(hidden, attention_mask)`` -> (batch, hidden) mean over the real tokens."""
    import torch

    generator = torch.Generator().manual_seed(3)
    hidden = torch.randn(3, 5, 4, generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    expected = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    answer = mean_pool(hidden, mask)
    require(isinstance(answer, torch.Tensor), f"return a torch tensor, not {type(answer).__name__}")
    require(
        tuple(answer.shape) == (3, 4),
        f"expected shape (3, 4) (batch, hidden), got {tuple(answer.shape)}",
    )
    require(
        not torch.allclose(answer[1], hidden[1].mean(0), atol=1e-5),
        "padding positions (attention_mask 0) must not count: average only where the mask is 1",
    )
    require(
        torch.allclose(answer, expected, atol=1e-5),
        "multiply by the mask, sum over the token axis, divide by the number of real tokens",
    )

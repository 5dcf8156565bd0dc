"""Checks of lesson 10 (Chinese text): an experiment (predict, then measure the ``[UNK]``
share of a vocabulary on held-out reviews) and the BIO conversion from tagged words."""

from __future__ import annotations

from typing import Any

from . import exercise, require

_WORDS = [
    [("江", "nr"), ("泽民", "nr"), ("在", "p"), ("北京", "ns"), ("讲话", "v")],
    [("新华社", "nt"), ("记者", "n"), ("李", "nr"), ("鹏", "nr")],
    [("今天", "t"), ("天气", "n"), ("很", "d"), ("好", "a")],
    [("上海", "ns"), ("上海", "ns")],
]


@exercise("10.unk_share")
def check_unk_share(unk_share: Any, prediction: Any, tokenizer: Any, texts: Any) -> None:
    """``unk_share(tokenizer, texts)``: the share of [UNK] among the tokens of ``texts``."""
    from ..offline_models.zh_vocab import unk_rate

    require(callable(unk_share), "pass your function unk_share(tokenizer, texts) itself.")
    require(
        isinstance(prediction, (int, float)) and 0 <= prediction <= 1,
        "write your prediction as a share between 0 and 1 before measuring.",
    )
    texts = list(texts)
    expected = unk_rate(tokenizer, texts)
    got = unk_share(tokenizer, texts)
    require(isinstance(got, (int, float)), "unk_share should return one number (a share).")
    require(
        abs(got - expected) < 1e-9,
        f"expected {expected:.4f}: count tokenizer.unk_token_id in the input_ids of each text "
        "(add_special_tokens=False) and divide by the number of tokens.",
    )
    print(f"predicted {prediction:.3f}, measured {got:.4f} on {len(texts)} texts")


@exercise("10.to_bio")
def check_to_bio(to_bio: Any) -> None:
    """``to_bio(words)`` -> (characters, BIO tags), as :func:`tutorial_utils.words_to_bio`."""
    from ..chinese_data import words_to_bio

    require(callable(to_bio), "pass your function to_bio(words) itself.")
    for words in _WORDS:
        got = to_bio(words)
        expected = words_to_bio(words)
        require(
            tuple(map(list, got)) == expected,
            f"for {words} expected {expected}, got {got}: first character B-, the others I-; "
            "consecutive nr words are one person; two ns words are two places.",
        )

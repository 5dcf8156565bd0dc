"""The character vocabulary of the offline Chinese models, trained with ``tokenizers``.

A WordPiece model whose normaliser is BERT's (``handle_chinese_chars`` puts spaces around
every CJK character, as ``bert-base-chinese`` does), so each Chinese character is one token;
trained on the training splits of the offline reviews and People's Daily only, so its
``[UNK]`` rate on held-out text (:func:`unk_rate`) is an honest figure. Deterministic: the
same texts give the same vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB_SIZE = 6000  # characters seen at least twice, plus a few "##" pieces of Latin words


def training_texts(seed: int = 0) -> list[str]:
    """The training splits' text: the reviews and the People's Daily sentences."""
    from ..chinese_data import load_chinese_ner, load_chinese_reviews

    reviews = load_chinese_reviews(seed=seed, verbose=False)["train"]
    ner = load_chinese_ner(seed=seed, verbose=False)["train"]
    return list(reviews["text"]) + ["".join(chars) for chars in ner["tokens"]]


def train_char_vocab(
    texts: Sequence[str], vocab_size: int = VOCAB_SIZE, model_max_length: int = 128
):
    """A ``PreTrainedTokenizerFast`` (WordPiece, one token per Chinese character) for ``texts``."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        limit_alphabet=vocab_size - min(500, vocab_size // 10),
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,  # no progress lines in notebooks and logs
    )
    tokenizer.train_from_iterator(list(texts), trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=model_max_length,  # truncation=True cuts at the model's positions
    )


def unk_rate(tokenizer, texts: Sequence[str]) -> float:
    """The share of ``[UNK]`` among the tokens of ``texts`` (special tokens not counted)."""
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    total = sum(len(x) for x in ids)
    return sum(x.count(tokenizer.unk_token_id) for x in ids) / max(total, 1)


def tokens_per_char(tokenizer, texts: Sequence[str]) -> float:
    """Tokens per character over ``texts`` (special tokens not counted)."""
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return sum(len(x) for x in ids) / max(sum(len(t) for t in texts), 1)


def vocab_figures(tokenizer, held_out: Sequence[str]) -> dict[str, float]:
    """Vocabulary size, held-out ``[UNK]`` rate and tokens per character, for build reports."""
    return {
        "vocab_size": len(tokenizer),
        "unk_rate": round(unk_rate(tokenizer, held_out), 5),
        "tokens_per_char": round(tokens_per_char(tokenizer, held_out), 4),
    }


def check_saved(folder, expected: int):
    """Load ``folder``'s tokenizer with ``AutoTokenizer`` and assert its size.

    (``BertTokenizerFast(vocab_file=...)`` in transformers 5 silently builds a 5-token vocab;
    the saved ``tokenizer.json`` must come back whole.)
    """
    from transformers import AutoTokenizer

    loaded = AutoTokenizer.from_pretrained(str(folder))
    if len(loaded) != expected:
        raise RuntimeError(f"{folder}: tokenizer loads with {len(loaded)} tokens, not {expected}")
    return loaded

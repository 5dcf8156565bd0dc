"""The offline models: where each comes from, and the ones built from real parts, cached.

Online a role is a Hub id; offline it is a local folder of a real model from this module:

* :func:`minilm_dir`: all-MiniLM-L6-v2 as packaged on PyPI (files verified, nothing built).
* :func:`smollm2_dir`: SmolLM2-135M-Instruct, dequantised once from the packaged GGUF file.
* :func:`sentiment_model_dir`: all-MiniLM-L6-v2 with a classification head, fine-tuned on the
  Rotten Tomatoes training sentences (labels ``NEGATIVE`` / ``POSITIVE``, like the online
  ``distilbert-base-uncased-finetuned-sst-2-english``), evaluated on the held-out test split.
* :func:`fill_mask_model_dir`: a ``BertForMaskedLM`` whose encoder starts from
  all-MiniLM-L6-v2 and whose output layer is tied to the word embeddings (the
  bert-base-uncased vocabulary), trained end to end with masked-LM on IMDB reviews, evaluated
  by top-5 accuracy on held-out reviews.

The last three are built once through :func:`tutorial_utils.cache.get_or_build` (atomic,
verified, rebuilt when damaged or when their recipe changes). The two trained models take
about five minutes together on a 2-core CPU; their builds print a progress bar and quality
figures, which the cache keeps in the entry's ``MANIFEST.json`` (:func:`built_model_figures`).
Training is plain PyTorch with transformers' learning-rate schedules, seeded, so a rebuild on
the same machine gives the same model. It runs on :func:`tutorial_utils.device` (a CUDA GPU
when there is one, under mixed precision there, see :mod:`tutorial_utils.precision`); random
masks and batch orders are drawn on the CPU either way. The device used is recorded in the
figures.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import integrity
from .batching import length_batches
from .cache import get_or_build, read_manifest
from .env import device as default_device
from .env import quiet, seed_everything
from .metrics import accuracy
from .precision import autocast, grad_scaler, scaled_step

SMOLLM2_ENTRY = "smollm2-135m-instruct"
SENTIMENT_ENTRY = "sentiment-minilm-rotten-tomatoes"
FILL_MASK_ENTRY = "fill-mask-minilm-imdb"
SMOLLM2_RECIPE = "smollm2-dequantised-v1"
SENTIMENT_RECIPE = "sentiment-v2"
FILL_MASK_RECIPE = "fill-mask-v4"
#: The recipe version of every cache entry this module builds (``cache_summary`` compares).
RECIPE_VERSION = {
    SMOLLM2_ENTRY: SMOLLM2_RECIPE,
    SENTIMENT_ENTRY: SENTIMENT_RECIPE,
    FILL_MASK_ENTRY: FILL_MASK_RECIPE,
}

ID2LABEL = {0: "NEGATIVE", 1: "POSITIVE"}
SENTIMENT_BAR = 0.80  # test accuracy the sentiment model must reach
FILL_MASK_BAR = 0.35  # held-out top-5 accuracy of masked tokens the fill-mask model must reach
EVAL_MASK_RATE = 0.15  # share of held-out tokens masked when measuring top-5 accuracy
PROBE_SENTENCE = "The movie was [MASK]."
# words that count as "a sentiment or quality word" in the probe's top 5
QUALITY_WORDS = frozenset(
    """good great bad terrible awful excellent amazing fantastic wonderful brilliant superb
    horrible boring fun funny poor fine ok okay decent perfect beautiful interesting stupid
    dull awesome pathetic weak strong solid enjoyable entertaining disappointing mediocre
    average worse worst best better nice cool lame dumb silly brilliant hilarious excellent
    ridiculous outstanding incredible impressive crap garbage rubbish bland fascinating
    touching moving sad brutal predictable slow overrated underrated refreshing charming
    painful annoying laughable original clever forgettable memorable masterpiece""".split()
)


@dataclass(frozen=True)
class SentimentRecipe:
    """How the sentiment model is trained (one pass over part of the training split)."""

    seed: int = 0
    max_length: int = 64
    batch_size: int = 32
    steps: int = 200
    lr: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    eval_batch_size: int = 128


@dataclass(frozen=True)
class FillMaskRecipe:
    """How the masked-LM model is trained (settings chosen by measuring top-5 accuracy)."""

    seed: int = 0
    chunk: int = 64  # tokens per training example, [CLS] ... [SEP] included
    batch_size: int = 64
    steps: int = 85
    mask_rate: float = 0.2  # share of tokens masked in training (evaluation masks 15 %)
    head_lr: float = 2e-3
    body_lr: float = 3e-4
    warmup: float = 0.05
    final_lr: float = 0.5  # learning rate at the last step, as a fraction of the peak
    dropout: float = 0.0  # no dropout: a short run is far from overfitting
    tied_in_head: bool = False  # train the tied word embeddings / output layer at head_lr
    weight_decay: float = 0.01
    train_reviews: int = 1600  # IMDB training reviews tokenised (more than the steps use)
    eval_chunks: int = 256  # held-out chunks of IMDB test reviews for the top-5 figure
    eval_batch_size: int = 64


SENTIMENT = SentimentRecipe()
FILL_MASK = FillMaskRecipe()


# --- packaged and converted models ----------------------------------------------------------


def minilm_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (weights, vocabulary and tokenizer verified)."""
    for item in (integrity.MINILM_WEIGHTS, integrity.MINILM_VOCAB, integrity.MINILM_TOKENIZER):
        path = integrity.packaged_file(item)
    return path.parent


def _build_smollm2(folder: Path) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet()
    gguf = integrity.packaged_file(integrity.SMOLLM2_GGUF)
    started = time.time()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The loaded weights are already float32, but the model is still flagged as GGUF-quantised
    # and refuses save_pretrained: copy them into a plain model built from the same config.
    config = quantised.config.to_dict()
    config.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(type(quantised.config).from_dict(config))
    plain.load_state_dict(quantised.state_dict())
    plain.generation_config = quantised.generation_config
    plain.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return {"source": gguf.name, "dequantise_seconds": round(time.time() - started, 1)}


def smollm2_dir() -> Path:
    """Cached float32 copy of SmolLM2-135M-Instruct, dequantised from the packaged GGUF once."""
    return get_or_build(
        SMOLLM2_ENTRY,
        _build_smollm2,
        SMOLLM2_RECIPE,
        "SmolLM2-135M-Instruct (dequantising the packaged GGUF, ~20 s)",
    )


# --- shared pieces of the two trainings -------------------------------------------------------


def _bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not progress, leave=True)


def _load_average() -> float | None:
    """The 1-minute load average at the end of a build (build times depend on it)."""
    try:
        return round(os.getloadavg()[0], 1)
    except (AttributeError, OSError):  # Windows
        return None


def _run_figures(started: float, cpu_started: float, where, recipe) -> dict[str, Any]:
    """What every build records about how it ran: times, threads, device, load, recipe."""
    import torch

    return {
        "seconds": round(time.time() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "threads": torch.get_num_threads(),
        "device": where.type,
        "load_average": _load_average(),
        "recipe": asdict(recipe),
    }


def _check_bar(name: str, ok: bool, message: str) -> None:
    if not ok:
        warnings.warn(
            f"The {name} model built here misses its quality bar ({message}). It is cached "
            "anyway so the lessons can run. A rebuild on this machine gives the same model: "
            "please report the figures with `python -m tutorial_utils doctor`'s output.",
            RuntimeWarning,
            stacklevel=3,
        )


# --- sentiment ---------------------------------------------------------------------------------


def sentiment_accuracy(
    model,
    tokenizer,
    texts: Sequence[str],
    labels: Sequence[int],
    batch_size: int = 128,
    max_length: int = 64,
) -> float:
    """Accuracy of a sequence classifier on ``texts`` (batched by length, no gradients)."""
    import torch

    model.eval()
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    predicted = [0] * len(ids)
    with torch.no_grad():
        for batch in length_batches([len(x) for x in ids], batch_size):
            features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            logits = model(**features.to(model.device)).logits
            for i, label in zip(batch, logits.argmax(-1).tolist(), strict=True):
                predicted[i] = label
    return accuracy(predicted, labels)


def build_sentiment(
    folder: Path, recipe: SentimentRecipe = SENTIMENT, progress: bool = True, device=None
) -> dict[str, Any]:
    """Fine-tune MiniLM on Rotten Tomatoes into ``folder``; return the build figures.

    Trains on ``device`` (default :func:`tutorial_utils.device`).
    """
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    from .data import load_reviews

    quiet()
    started, cpu_started = time.time(), time.process_time()
    seed_everything(recipe.seed)
    source = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(source),
        num_labels=2,
        id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
    )
    where = torch.device(device if device is not None else default_device())
    model.to(where)
    data = load_reviews("rotten_tomatoes", seed=recipe.seed, verbose=progress)
    train, test = data["train"], data["test"]
    encoded = tokenizer(list(train["text"]), truncation=True, max_length=recipe.max_length)
    ids, labels = encoded["input_ids"], list(train["label"])
    generator = torch.Generator().manual_seed(recipe.seed)
    batches: list[list[int]] = []
    while len(batches) < recipe.steps:
        batches += length_batches([len(x) for x in ids], recipe.batch_size, generator)
    batches = batches[: recipe.steps]

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay
    )
    # linear warm-up over the first `warmup` share of the steps, then linear decay to 0
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(recipe.steps * recipe.warmup), recipe.steps
    )
    scaler = grad_scaler(where)
    model.train()
    losses: list[float] = []
    with _bar(recipe.steps, "fine-tuning the sentiment model", progress) as bar:
        for batch in batches:
            features = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            target = torch.tensor([labels[i] for i in batch])
            with autocast(where):  # mixed precision on CUDA only
                loss = model(**features.to(where), labels=target.to(where)).loss
            scaled_step(loss, model, optimizer, schedule, scaler)
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
    train_seconds = time.time() - started

    accuracy = sentiment_accuracy(
        model,
        tokenizer,
        list(test["text"]),
        list(test["label"]),
        recipe.eval_batch_size,
        recipe.max_length,
    )
    model.cpu().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    figures = {
        "accuracy": round(accuracy, 4),
        "test_sentences": len(test),
        "bar": SENTIMENT_BAR,
        "steps": recipe.steps,
        "examples_seen": recipe.steps * recipe.batch_size,
        "train_sentences": len(train),
        "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4),
        "train_seconds": round(train_seconds, 1),
        **_run_figures(started, cpu_started, where, recipe),
    }
    if progress:
        print(
            f"sentiment model: test accuracy {accuracy:.3f} on {len(test)} held-out Rotten "
            f"Tomatoes sentences (bar {SENTIMENT_BAR:.2f}); {recipe.steps} steps of "
            f"{recipe.batch_size}, built in {figures['seconds']:.0f} s"
        )
    _check_bar(
        "sentiment", accuracy >= SENTIMENT_BAR, f"test accuracy {accuracy:.3f} < {SENTIMENT_BAR}"
    )
    return figures


# --- fill-mask ---------------------------------------------------------------------------------


def _chunks(tokenizer, texts: Sequence[str], size: int) -> list[list[int]]:
    """Concatenate the reviews' tokens (a [SEP] between reviews) into [CLS] ... [SEP] chunks."""
    body = size - 2
    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream += ids + [tokenizer.sep_token_id]
    return [
        [tokenizer.cls_token_id, *stream[i : i + body], tokenizer.sep_token_id]
        for i in range(0, len(stream) - body + 1, body)
    ]


def _mask(batch, tokenizer, rate: float, generator):
    """Replace a random ``rate`` of the non-special tokens by [MASK]; return inputs, positions."""
    import torch

    special = torch.zeros_like(batch, dtype=torch.bool)
    for token in tokenizer.all_special_ids:
        special |= batch == token
    chosen = (torch.rand(batch.shape, generator=generator) < rate) & ~special
    masked = batch.clone()
    masked[chosen] = tokenizer.mask_token_id
    return masked, chosen


def _masked_logits(model, inputs, positions):
    """Vocabulary logits at the masked positions only (the full projection is 30k x tokens)."""
    hidden = model.bert(input_ids=inputs).last_hidden_state
    return model.cls(hidden[positions])


def masked_top_k_accuracy(
    model,
    tokenizer,
    chunks: list[list[int]],
    k: int = 5,
    rate: float = 0.15,
    seed: int = 1,
    batch_size: int = 64,
) -> float:
    """Share of masked tokens whose true token is among the model's top ``k`` (fixed masks)."""
    import torch

    model.eval()
    generator = torch.Generator().manual_seed(seed)  # masks are drawn on the CPU
    hits = total = 0
    with torch.no_grad():
        for start in range(0, len(chunks), batch_size):
            batch = torch.tensor(chunks[start : start + batch_size])
            inputs, positions = _mask(batch, tokenizer, rate, generator)
            batch, inputs, positions = (t.to(model.device) for t in (batch, inputs, positions))
            top = _masked_logits(model, inputs, positions).topk(k, dim=-1).indices
            hits += (top == batch[positions].unsqueeze(-1)).any(-1).sum().item()
            total += int(positions.sum())
    return hits / max(1, total)


def fill_mask_probe(model, tokenizer, sentence: str = PROBE_SENTENCE, k: int = 5) -> list[str]:
    """The model's top ``k`` words for the [MASK] in ``sentence``."""
    import torch

    model.eval()
    enc = tokenizer(sentence, return_tensors="pt").to(model.device)
    positions = enc["input_ids"] == tokenizer.mask_token_id
    with torch.no_grad():
        top = _masked_logits(model, enc["input_ids"], positions)[0].topk(k).indices.cpu()
    return [tokenizer.decode([int(t)]).strip() for t in top]


def _new_masked_lm(source: Path, dropout: float = 0.1):
    """BertForMaskedLM with MiniLM's encoder, a fresh MLM transform, decoder tied to embeddings."""
    from transformers import BertConfig, BertForMaskedLM

    config = BertConfig.from_pretrained(str(source))
    config.architectures = ["BertForMaskedLM"]
    config.tie_word_embeddings = True
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = dropout
    model = BertForMaskedLM.from_pretrained(str(source), config=config)
    decoder = model.cls.predictions.decoder.weight
    embeddings = model.bert.embeddings.word_embeddings.weight
    if decoder.data_ptr() != embeddings.data_ptr():
        model.tie_weights()
    if model.cls.predictions.decoder.weight.data_ptr() != embeddings.data_ptr():
        raise RuntimeError("Could not tie the masked-LM output layer to the word embeddings.")
    return model


def build_fill_mask(
    folder: Path, recipe: FillMaskRecipe = FILL_MASK, progress: bool = True, device=None
) -> dict[str, Any]:
    """Train MiniLM end to end with masked-LM on IMDB reviews into ``folder``; return figures.

    Trains on ``device`` (default :func:`tutorial_utils.device`).
    """
    import torch
    from transformers import AutoTokenizer, get_wsd_schedule

    from .data import load_reviews

    quiet()
    started, cpu_started = time.time(), time.process_time()
    seed_everything(recipe.seed)
    source = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = _new_masked_lm(source, recipe.dropout)
    where = torch.device(device if device is not None else default_device())
    model.to(where)  # keeps the output layer tied to the word embeddings
    data = load_reviews("imdb", seed=recipe.seed, verbose=progress)
    train = data["train"].shuffle(seed=recipe.seed).select(range(recipe.train_reviews))
    chunks = _chunks(tokenizer, train["text"], recipe.chunk)
    needed = recipe.steps * recipe.batch_size
    if len(chunks) < needed:
        raise RuntimeError(
            f"Only {len(chunks)} training chunks for {needed} examples: "
            "raise FillMaskRecipe.train_reviews."
        )
    test = data["test"].shuffle(seed=recipe.seed)
    eval_chunks = _chunks(tokenizer, test.select(range(min(len(test), 400)))["text"], recipe.chunk)[
        : recipe.eval_chunks
    ]

    head = [p for n, p in model.named_parameters() if n.startswith("cls.")]
    if recipe.tied_in_head:  # the output layer is the word-embedding matrix (tied)
        head.append(model.bert.embeddings.word_embeddings.weight)
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": recipe.body_lr}, {"params": head, "lr": recipe.head_lr}],
        weight_decay=recipe.weight_decay,
    )
    # linear warm-up, then linear decay to `final_lr` times each group's peak rate
    # (a warmup-stable-decay schedule whose stable phase is empty)
    warmup = int(recipe.steps * recipe.warmup)
    schedule = get_wsd_schedule(
        optimizer,
        num_warmup_steps=warmup,
        num_decay_steps=recipe.steps - warmup,
        num_training_steps=recipe.steps,
        decay_type="linear",
        min_lr_ratio=recipe.final_lr,
    )
    scaler = grad_scaler(where)
    generator = torch.Generator().manual_seed(recipe.seed)  # batches and masks: on the CPU
    order = torch.randperm(len(chunks), generator=generator)[:needed].tolist()
    model.train()
    losses: list[float] = []
    with _bar(recipe.steps, "masked-LM training on IMDB", progress) as bar:
        for step in range(recipe.steps):
            idx = order[step * recipe.batch_size : (step + 1) * recipe.batch_size]
            batch = torch.tensor([chunks[i] for i in idx])
            inputs, positions = _mask(batch, tokenizer, recipe.mask_rate, generator)
            batch, inputs, positions = (t.to(where) for t in (batch, inputs, positions))
            with autocast(where):  # mixed precision on CUDA only
                logits = _masked_logits(model, inputs, positions)
            loss = torch.nn.functional.cross_entropy(logits.float(), batch[positions])
            scaled_step(loss, model, optimizer, schedule, scaler)
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.3f}")
    train_seconds = time.time() - started

    top5 = masked_top_k_accuracy(
        model, tokenizer, eval_chunks, 5, EVAL_MASK_RATE, batch_size=recipe.eval_batch_size
    )
    top1 = masked_top_k_accuracy(
        model, tokenizer, eval_chunks, 1, EVAL_MASK_RATE, batch_size=recipe.eval_batch_size
    )
    probe = fill_mask_probe(model, tokenizer)
    model.cpu().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    figures = {
        "top5_accuracy": round(top5, 4),
        "top1_accuracy": round(top1, 4),
        "eval_chunks": len(eval_chunks),
        "bar": FILL_MASK_BAR,
        "probe": PROBE_SENTENCE,
        "probe_top5": probe,
        "steps": recipe.steps,
        "final_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4),
        "train_seconds": round(train_seconds, 1),
        **_run_figures(started, cpu_started, where, recipe),
    }
    if progress:
        print(
            f"fill-mask model: top-5 accuracy {top5:.3f} (top-1 {top1:.3f}) on masked tokens of "
            f"{len(eval_chunks)} held-out IMDB chunks (bar {FILL_MASK_BAR:.2f}); "
            f"{PROBE_SENTENCE!r} -> {', '.join(probe)}; {recipe.steps} steps of "
            f"{recipe.batch_size}, built in {figures['seconds']:.0f} s"
        )
    _check_bar(
        "fill-mask",
        top5 >= FILL_MASK_BAR and bool(QUALITY_WORDS & set(probe)),
        f"top-5 {top5:.3f} (bar {FILL_MASK_BAR}), probe {probe}",
    )
    return figures


# --- cache entries -----------------------------------------------------------------------------


def _entry(name: str, build: Callable[..., dict], description: str, progress: bool) -> Path:
    return get_or_build(
        name, functools.partial(build, progress=progress), RECIPE_VERSION[name], description
    )


def sentiment_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"sentiment"`` model (built on first use, 1-2 min on 2 cores)."""
    return _entry(
        SENTIMENT_ENTRY,
        build_sentiment,
        "the sentiment model (MiniLM fine-tuned on Rotten Tomatoes, 1-2 minutes)",
        progress,
    )


def fill_mask_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"fill-mask"`` model (built on first use, about 3 min on 2 cores)."""
    return _entry(
        FILL_MASK_ENTRY,
        build_fill_mask,
        "the fill-mask model (MiniLM trained with masked-LM on IMDB, about 3 minutes)",
        progress,
    )


#: The offline model of each role that tutorial_utils trains itself.
BUILT_MODELS: dict[str, Callable[..., Path]] = {
    "sentiment": sentiment_model_dir,
    "fill-mask": fill_mask_model_dir,
}
#: The local folder of every role offline (``tu.checkpoint`` returns it).
OFFLINE_FOLDERS: dict[str, Callable[..., Path]] = {
    "encoder": minilm_dir,
    "embedder": minilm_dir,
    "generator": smollm2_dir,
    "chat": smollm2_dir,
    **BUILT_MODELS,
}


def built_model_figures(role: str) -> dict[str, Any]:
    """The figures measured when ``role``'s offline model was built (building it if needed)."""
    if role not in BUILT_MODELS:
        raise ValueError(
            f"tutorial_utils builds no model for role {role!r}; "
            f"built roles: {', '.join(BUILT_MODELS)}."
        )
    return dict(read_manifest(BUILT_MODELS[role]())["info"])

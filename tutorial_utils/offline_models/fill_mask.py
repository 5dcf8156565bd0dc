"""The offline ``fill-mask`` model: all-MiniLM-L6-v2's encoder with a masked-LM head, trained on IMDB.

all-MiniLM-L6-v2 ships no masked-LM head, and a head trained alone on top of it predicts only
"the , ." (measured). So this is a ``BertForMaskedLM`` whose encoder starts from MiniLM and
whose output layer is tied to the word embeddings (the bert-base-uncased vocabulary), trained
end to end with masked-LM on IMDB reviews (about 3 minutes on 2 cores), then measured by the
top-5 accuracy of masked tokens of held-out reviews, which must reach :data:`BAR`, and by a
probe sentence whose top 5 must hold a sentiment or quality word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .building import BuildRun, mean_of_last
from .minilm import minilm_dir
from .sources import Built

ENTRY = "fill-mask-minilm-imdb"
VERSION = "fill-mask-v4"
BAR = 0.35  # held-out top-5 accuracy of masked tokens the fill-mask model must reach
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


RECIPE = FillMaskRecipe()


def chunks_of(tokenizer, texts: Sequence[str], size: int) -> list[list[int]]:
    """Concatenate the reviews' tokens (a [SEP] between reviews) into [CLS] ... [SEP] chunks."""
    body = size - 2
    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream += ids + [tokenizer.sep_token_id]
    return [
        [tokenizer.cls_token_id, *stream[i : i + body], tokenizer.sep_token_id]
        for i in range(0, len(stream) - body + 1, body)
    ]


def mask_tokens(batch, tokenizer, rate: float, generator):
    """Replace a random ``rate`` of the non-special tokens by [MASK]; return inputs, positions."""
    import torch

    special = torch.zeros_like(batch, dtype=torch.bool)
    for token in tokenizer.all_special_ids:
        special |= batch == token
    chosen = (torch.rand(batch.shape, generator=generator) < rate) & ~special
    masked = batch.clone()
    masked[chosen] = tokenizer.mask_token_id
    return masked, chosen


def masked_logits(model, inputs, positions):
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
            inputs, positions = mask_tokens(batch, tokenizer, rate, generator)
            batch, inputs, positions = (t.to(model.device) for t in (batch, inputs, positions))
            top = masked_logits(model, inputs, positions).topk(k, dim=-1).indices
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
        top = masked_logits(model, enc["input_ids"], positions)[0].topk(k).indices.cpu()
    return [tokenizer.decode([int(t)]).strip() for t in top]


def new_masked_lm(source: Path, dropout: float = 0.1):
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


def _imdb_chunks(tokenizer, recipe: FillMaskRecipe, verbose: bool):
    """Training chunks of IMDB training reviews, and held-out chunks of IMDB test reviews."""
    from ..data import load_reviews

    data = load_reviews("imdb", seed=recipe.seed, verbose=verbose)
    train = data["train"].shuffle(seed=recipe.seed).select(range(recipe.train_reviews))
    chunks = chunks_of(tokenizer, train["text"], recipe.chunk)
    needed = recipe.steps * recipe.batch_size
    if len(chunks) < needed:
        raise RuntimeError(
            f"Only {len(chunks)} training chunks for {needed} examples: "
            "raise FillMaskRecipe.train_reviews."
        )
    test = data["test"].shuffle(seed=recipe.seed)
    held_out = test.select(range(min(len(test), 400)))["text"]
    return chunks, chunks_of(tokenizer, held_out, recipe.chunk)[: recipe.eval_chunks]


def _optimizer_and_schedule(model, recipe: FillMaskRecipe):
    """AdamW with a higher rate for the head; linear warm-up, then decay to ``final_lr``."""
    import torch
    from transformers import get_wsd_schedule

    head = [p for n, p in model.named_parameters() if n.startswith("cls.")]
    if recipe.tied_in_head:  # the output layer is the word-embedding matrix (tied)
        head.append(model.bert.embeddings.word_embeddings.weight)
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": recipe.body_lr}, {"params": head, "lr": recipe.head_lr}],
        weight_decay=recipe.weight_decay,
    )
    # a warmup-stable-decay schedule whose stable phase is empty
    warmup = int(recipe.steps * recipe.warmup)
    schedule = get_wsd_schedule(
        optimizer,
        num_warmup_steps=warmup,
        num_decay_steps=recipe.steps - warmup,
        num_training_steps=recipe.steps,
        decay_type="linear",
        min_lr_ratio=recipe.final_lr,
    )
    return optimizer, schedule


def build_fill_mask(
    folder: Path, recipe: FillMaskRecipe = RECIPE, progress: bool = True, device=None
) -> dict[str, Any]:
    """Train MiniLM end to end with masked-LM on IMDB reviews into ``folder``; return figures.

    Trains on ``device`` (default :func:`tutorial_utils.device`).
    """
    import torch
    from transformers import AutoTokenizer

    run = BuildRun(recipe, device)
    source = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = new_masked_lm(source, recipe.dropout)  # the model
    model.to(run.device)  # keeps the output layer tied to the word embeddings
    chunks, eval_chunks = _imdb_chunks(tokenizer, recipe, progress)  # the data
    optimizer, schedule = _optimizer_and_schedule(model, recipe)
    generator = torch.Generator().manual_seed(recipe.seed)  # batches and masks: on the CPU
    size = recipe.batch_size
    order = torch.randperm(len(chunks), generator=generator)[: recipe.steps * size].tolist()
    batches = (
        torch.tensor([chunks[i] for i in order[step * size : (step + 1) * size]])
        for step in range(recipe.steps)
    )

    def loss_of(batch):
        inputs, positions = mask_tokens(batch, tokenizer, recipe.mask_rate, generator)
        batch, inputs, positions = (t.to(run.device) for t in (batch, inputs, positions))
        logits = masked_logits(model, inputs, positions)
        return torch.nn.functional.cross_entropy(logits.float(), batch[positions])

    losses = run.train(
        model, batches, loss_of, optimizer, schedule, "masked-LM training on IMDB", progress, 10
    )
    evaluate = {"rate": EVAL_MASK_RATE, "batch_size": recipe.eval_batch_size}
    top5 = masked_top_k_accuracy(model, tokenizer, eval_chunks, 5, **evaluate)  # the quality bar
    top1 = masked_top_k_accuracy(model, tokenizer, eval_chunks, 1, **evaluate)
    probe = fill_mask_probe(model, tokenizer)
    run.save(model, tokenizer, folder)
    figures = {
        "top5_accuracy": round(top5, 4),
        "top1_accuracy": round(top1, 4),
        "eval_chunks": len(eval_chunks),
        "bar": BAR,
        "probe": PROBE_SENTENCE,
        "probe_top5": probe,
        "steps": recipe.steps,
        "final_loss": round(mean_of_last(losses, 10), 4),
    }
    line = (
        f"fill-mask model: top-5 accuracy {top5:.3f} (top-1 {top1:.3f}) on masked tokens of "
        f"{len(eval_chunks)} held-out IMDB chunks (bar {BAR:.2f}); {PROBE_SENTENCE!r} -> "
        f"{', '.join(probe)}; {recipe.steps} steps of {recipe.batch_size}"
    )
    passed = top5 >= BAR and bool(QUALITY_WORDS & set(probe))
    missed = f"top-5 {top5:.3f} (bar {BAR}), probe {probe}"
    return run.report("fill-mask", figures, passed, missed, line, progress)


SOURCE = Built(
    "all-MiniLM-L6-v2 + masked-LM head, trained further on IMDB reviews (built by tutorial_utils)",
    ENTRY,
    VERSION,
    build_fill_mask,
    "the fill-mask model (MiniLM trained with masked-LM on IMDB, about 3 minutes)",
)


def fill_mask_model_dir(progress: bool = True) -> Path:
    """Cached folder of the offline ``"fill-mask"`` model (built on first use, about 3 min on 2 cores)."""
    return SOURCE.folder(progress)

"""The from-scratch Transformer classifier of lesson 02 (reused by lesson 06 for a comparison).

It is the model of the original write-up - token embedding + learned positional embedding +
a stack of encoder layers + mean pooling + a linear layer - built from
:class:`tutorial_utils.attention.TransformerEncoderLayer`, with two fixes: the mean ignores
padding, and the encoder is told where the padding is.

Stable API (lesson 06 depends on it):

* ``TransformerClassifier(vocab_size, d_model, num_heads, num_layers, dim_feedforward,
  num_classes, max_len, dropout, pad_id)``; ``model(input_ids, attention_mask=None)`` -> logits.
* ``train_classifier(model, train_dataset, eval_dataset, tokenizer, ...)`` -> ``history``, a
  dict of lists that :func:`tutorial_utils.plotting.plot_training_curves` draws.
* ``evaluate_accuracy(model, dataset, tokenizer, ...)`` -> float.
* ``predict(model, tokenizer, sentences)`` -> list of ``(label, probability)``.
* ``train_from_scratch(reviews, tokenizer, fast=False, seed=0)`` -> dict with ``model``,
  ``history``, ``test_accuracy``, ``seconds``, ``device`` (and ``config``): lesson 02's
  defaults in one call.

Device: training runs on :func:`tutorial_utils.device` (a CUDA GPU when there is one, or
``TUTORIAL_DEVICE``) and moves the model there, as ``Trainer`` does; ``model.device`` tells
where it is, and evaluation and prediction run wherever the model is. On CUDA the forward pass
runs under mixed precision (:mod:`tutorial_utils.precision`); on the CPU nothing changes.

Datasets are anything indexable with ``dataset["text"]`` (list of str) and ``dataset["label"]``
(list of int), such as a split of :func:`tutorial_utils.load_reviews`.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import get_cosine_schedule_with_warmup

from .attention import TransformerEncoderLayer
from .batching import length_batches
from .env import device as default_device
from .metrics import accuracy
from .precision import autocast, grad_scaler
from .training import training_losses

__all__ = [
    "DEFAULTS",
    "FAST",
    "TransformerClassifier",
    "evaluate_accuracy",
    "predict",
    "train_classifier",
    "train_from_scratch",
]

#: Lesson 02's default hyper-parameters (model and training), used by :func:`train_from_scratch`.
DEFAULTS: dict[str, Any] = {
    "d_model": 64,
    "num_heads": 4,
    "num_layers": 2,
    "dim_feedforward": 128,
    "dropout": 0.1,
    "max_length": 64,
    "epochs": 6,
    "batch_size": 32,
    "lr": 1e-3,
}
#: The lists :func:`train_classifier` returns (what ``plot_training_curves`` draws).
HISTORY_KEYS = ("step", "train_loss", "eval_step", "eval_loss", "eval_accuracy", "epoch")
#: Smaller settings for ``fast=True`` (CI and a quick look).
FAST: dict[str, Any] = {**DEFAULTS, "epochs": 2, "num_layers": 1, "train_limit": 3000}


class TransformerClassifier(nn.Module):
    """Embedding + learned positions + encoder layers + masked mean pooling + linear.

    ``forward(input_ids, attention_mask=None)``: ``input_ids`` (batch, L) with L <= ``max_len``;
    ``attention_mask`` 1 at tokens, 0 at padding (default: ``input_ids != pad_id``). Returns
    logits (batch, num_classes). ``model.layers[i].last_attention`` holds the attention
    weights (batch, heads, L, L) of the last call. ``model.device`` is where the weights are
    (as on a Hugging Face model): move inputs there with ``.to(model.device)``.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        num_classes: int = 2,
        max_len: int = 64,
        dropout: float = 0.1,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("num_layers", num_layers),
            ("num_classes", num_classes),
            ("max_len", max_len),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        self.config = {
            "vocab_size": vocab_size,
            "d_model": d_model,
            "num_heads": num_heads,
            "num_layers": num_layers,
            "dim_feedforward": dim_feedforward,
            "num_classes": num_classes,
            "max_len": max_len,
            "dropout": dropout,
            "pad_id": pad_id,
        }
        self.pad_id = pad_id
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.positional_embedding = nn.Parameter(torch.zeros(1, max_len, d_model))
        nn.init.normal_(self.positional_embedding, std=0.02)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(d_model, num_heads, dim_feedforward, dropout=dropout)
            for _ in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(d_model, num_classes)

    @property
    def device(self) -> torch.device:
        """The device of the model's weights (inputs must be moved there)."""
        return self.embedding.weight.device

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids must have shape (batch, L), got {tuple(input_ids.shape)}.")
        if input_ids.shape[1] > self.max_len:
            raise ValueError(
                f"sequence length {input_ids.shape[1]} exceeds max_len {self.max_len}; truncate the input."
            )
        if attention_mask is None:
            attention_mask = input_ids != self.pad_id
        keep = attention_mask.bool()
        x = self.embedding(input_ids) + self.positional_embedding[:, : input_ids.shape[1]]
        x = self.dropout(x)
        for layer in self.layers:
            x = layer(x, key_padding_mask=~keep)
        weights = keep.unsqueeze(-1).to(x.dtype)  # (batch, L, 1)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # mean over real tokens
        return self.classifier(self.dropout(pooled))


def _encode(tokenizer: Any, texts: list[str], max_length: int) -> tuple[Tensor, Tensor]:
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        padding="max_length",
        return_tensors="pt",
    )
    return encoded["input_ids"], encoded["attention_mask"]


def _device_of(model: nn.Module) -> torch.device:
    found = getattr(model, "device", None)
    if isinstance(found, torch.device):
        return found
    return next(model.parameters()).device


def _columns(dataset: Any, name: str) -> tuple[list[str], list[int]]:
    try:
        texts, labels = list(dataset["text"]), [int(y) for y in dataset["label"]]
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{name} must have columns 'text' and 'label' (a datasets.Dataset or a dict of lists)."
        ) from error
    if not texts or len(texts) != len(labels):
        raise ValueError(
            f"{name} must hold as many labels as texts (and at least one), got {len(texts)} and {len(labels)}."
        )
    return texts, labels


def _trimmed(ids: Tensor, mask: Tensor, labels: Tensor, batches: list[list[int]]):
    """Yield each batch of rows with the padding columns that no row of it needs cut off."""
    for batch in batches:
        index = torch.tensor(batch, device=ids.device)
        batch_mask = mask[index]
        length = max(int(batch_mask.sum(1).max()), 1)
        yield ids[index, :length], batch_mask[:, :length], labels[index]


@torch.no_grad()
def _evaluate(
    model: TransformerClassifier,
    ids: Tensor,
    mask: Tensor,
    labels: Tensor,
    batch_size: int,
    mixed_precision: bool = True,
) -> tuple[float, float]:
    """Mean loss and accuracy, in batches of similar length (each padded as little as needed)."""
    was_training = model.training
    model.eval()
    where = _device_of(model)
    ids, mask, labels = ids.to(where), mask.to(where), labels.to(where)
    batches = length_batches(mask.sum(1).tolist(), batch_size)
    total_loss, predictions = 0.0, torch.empty_like(labels)
    for batch, (batch_ids, batch_mask, batch_labels) in zip(
        batches, _trimmed(ids, mask, labels, batches), strict=True
    ):
        with autocast(where, mixed_precision):
            logits = model(batch_ids, batch_mask).float()
        total_loss += F.cross_entropy(logits, batch_labels, reduction="sum").item()
        predictions[torch.tensor(batch, device=where)] = logits.argmax(-1)
    model.train(was_training)
    return total_loss / len(labels), accuracy(predictions, labels)


def evaluate_accuracy(
    model: TransformerClassifier,
    dataset: Any,
    tokenizer: Any,
    max_length: int = 64,
    batch_size: int = 128,
) -> float:
    """Accuracy of ``model`` on ``dataset`` (columns text / label), in eval mode, on its device."""
    texts, labels = _columns(dataset, "dataset")
    ids, mask = _encode(tokenizer, texts, min(max_length, model.max_len))
    return _evaluate(model, ids, mask, torch.tensor(labels), batch_size)[1]


def _check_settings(epochs: int, batch_size: int, lr: float, log_every: int) -> None:
    if epochs < 1 or batch_size < 1 or lr <= 0 or log_every < 1:
        raise ValueError("epochs, batch_size and log_every must be >= 1 and lr > 0.")


def _encoded(dataset: Any, name: str, tokenizer: Any, max_length: int) -> tuple[Tensor, ...]:
    """``(input_ids, attention_mask, labels)`` of a text / label dataset, padded to ``max_length``."""
    texts, labels = _columns(dataset, name)
    ids, mask = _encode(tokenizer, texts, max_length)
    return ids, mask, torch.tensor(labels)


def _epoch_batches(size: int, batch_size: int, rng: random.Random) -> list[list[int]]:
    """One epoch: every example once, in a new random order, cut into batches."""
    order = list(range(size))
    rng.shuffle(order)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class _LossLog:
    """Appends the mean training loss of every ``every`` steps to the history."""

    def __init__(self, history: dict[str, list[float]], every: int) -> None:
        self.history, self.every, self.running = history, every, []

    def add(self, step: int, loss: float) -> None:
        self.running.append(loss)
        if step % self.every == 0:
            self.flush(step)

    def flush(self, step: int) -> None:
        if self.running:
            self.history["step"].append(step)
            self.history["train_loss"].append(sum(self.running) / len(self.running))
            self.running = []


def _record_evaluation(
    history: dict[str, list[float]], epoch: int, step: int, loss: float, acc: float, verbose: bool
) -> None:
    for key, value in (("eval_step", step), ("eval_loss", loss), ("eval_accuracy", acc)):
        history[key].append(value)
    history["epoch"].append(epoch)
    if verbose:
        print(f"epoch {epoch}: step {step}, validation loss {loss:.3f}, accuracy {acc:.3f}")


def train_classifier(
    model: TransformerClassifier,
    train_dataset: Any,
    eval_dataset: Any | None,
    tokenizer: Any,
    epochs: int = 6,
    batch_size: int = 32,
    lr: float = 1e-3,
    max_length: int = 64,
    seed: int = 0,
    log_every: int = 50,
    max_steps: int | None = None,
    weight_decay: float = 0.01,
    verbose: bool = True,
    device: str | torch.device | None = None,
    mixed_precision: bool = True,
    eval_batch_size: int = 128,
) -> dict[str, list[float]]:
    """Train with AdamW and transformers' ``get_cosine_schedule_with_warmup``; return the history.

    History (a dict of lists): ``step`` and ``train_loss`` (mean loss over the last
    ``log_every`` steps), and, after every epoch, ``eval_step``, ``eval_loss``,
    ``eval_accuracy`` on ``eval_dataset`` (in batches of ``eval_batch_size``) and ``epoch``.
    ``max_steps`` stops early (tests). Deterministic for a given ``seed`` (shuffling and
    dropout) on a given device. Each step is the course's one training loop
    (:func:`tutorial_utils.training.training_losses`).

    The model is moved to ``device`` (default :func:`tutorial_utils.device`: the GPU when
    there is one) and stays there; on CUDA the forward pass runs under mixed precision unless
    ``mixed_precision=False`` (float32 everywhere, as on the CPU, where it never applies).
    """
    _check_settings(epochs, batch_size, lr, log_every)
    where = torch.device(device if device is not None else default_device())
    length = min(max_length, model.max_len)
    ids, mask, labels = _encoded(train_dataset, "train_dataset", tokenizer, length)
    if eval_dataset is not None:
        evaluation = _encoded(eval_dataset, "eval_dataset", tokenizer, length)
    model.to(where)
    ids, mask, labels = ids.to(where), mask.to(where), labels.to(where)

    torch.manual_seed(seed)  # dropout draws
    rng = random.Random(seed)  # the order of the examples in each epoch
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    total = (
        steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs)
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scaler = grad_scaler(where, mixed_precision)  # enabled for float16 on CUDA only
    scheduler = get_cosine_schedule_with_warmup(optimizer, max(1, total // 10), total)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    log = _LossLog(history, log_every)

    def loss_of(batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        batch_ids, batch_mask, batch_labels = batch
        return F.cross_entropy(model(batch_ids, batch_mask).float(), batch_labels)

    step = 0
    optimizer.zero_grad(set_to_none=True)  # no gradient left from earlier use of the model
    model.train()
    for epoch in range(1, epochs + 1):
        batches = _trimmed(ids, mask, labels, _epoch_batches(len(labels), batch_size, rng))
        losses = training_losses(
            model, batches, loss_of, optimizer, scheduler, scaler, where, mixed_precision
        )
        for loss in losses:
            step += 1
            log.add(step, loss)
            if step >= total:
                break
        if eval_dataset is not None:
            result = _evaluate(model, *evaluation, eval_batch_size, mixed_precision)
            _record_evaluation(history, epoch, step, *result, verbose)
        if step >= total:
            break
    log.flush(step)
    model.eval()
    return history


@torch.no_grad()
def predict(
    model: TransformerClassifier,
    tokenizer: Any,
    sentences: list[str] | str,
    label_names: list[str] | None = None,
    max_length: int = 64,
) -> list[tuple[str, float]]:
    """``(label, probability)`` for each sentence; labels from ``label_names`` (default neg/pos).

    Runs on the model's device; the probabilities come back to the CPU as Python floats.
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    if not sentences or not all(isinstance(s, str) for s in sentences):
        raise ValueError("sentences must be a non-empty list of strings.")
    names = label_names or (
        ["neg", "pos"]
        if model.classifier.out_features == 2
        else [str(i) for i in range(model.classifier.out_features)]
    )
    was_training = model.training
    model.eval()
    encoded = tokenizer(
        list(sentences),
        truncation=True,
        max_length=min(max_length, model.max_len),
        padding=True,
        return_tensors="pt",
    )
    where = _device_of(model)  # the tokenizer's tensors are on the CPU, the model may be on a GPU
    logits = model(encoded["input_ids"].to(where), encoded["attention_mask"].to(where))
    probs = torch.softmax(logits.float(), dim=-1).cpu()
    model.train(was_training)
    best = probs.max(-1)
    return [(names[int(i)], float(p)) for p, i in zip(best.values, best.indices, strict=True)]


def train_from_scratch(
    reviews: Any,
    tokenizer: Any,
    fast: bool = False,
    seed: int = 0,
    verbose: bool = True,
    device: str | torch.device | None = None,
    mixed_precision: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """Lesson 02 in one call: build, train and test the classifier with the default settings.

    ``reviews`` is :func:`tutorial_utils.load_reviews`'s DatasetDict (train / validation / test).
    ``fast=True`` uses :data:`FAST` (fewer epochs, one layer, a subset of the training split);
    ``overrides`` replace single settings. Trains on ``device`` (default
    :func:`tutorial_utils.device`), under mixed precision on CUDA unless ``mixed_precision=False``. Returns ``model``, ``history``, ``test_accuracy`` (on the
    test split), ``seconds`` (training wall time), ``device`` (where it trained, e.g. "cuda")
    and ``config`` (the settings used).
    """
    config = {**(FAST if fast else DEFAULTS), **overrides}
    unknown = set(config) - set(FAST)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; valid: {sorted(FAST)}.")
    train = reviews["train"]
    limit = config.get("train_limit")
    if limit and len(train) > limit:
        train = train.shuffle(seed=seed).select(range(limit))
    torch.manual_seed(seed)
    model = TransformerClassifier(
        vocab_size=len(tokenizer),
        d_model=config["d_model"],
        num_heads=config["num_heads"],
        num_layers=config["num_layers"],
        dim_feedforward=config["dim_feedforward"],
        num_classes=2,
        max_len=config["max_length"],
        dropout=config["dropout"],
        pad_id=tokenizer.pad_token_id or 0,
    )
    started = time.perf_counter()
    history = train_classifier(
        model,
        train,
        reviews["validation"],
        tokenizer,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        lr=config["lr"],
        max_length=config["max_length"],
        seed=seed,
        verbose=verbose,
        device=device,
        mixed_precision=mixed_precision,
    )
    if model.device.type == "cuda":
        torch.cuda.synchronize()  # the clock stops when the GPU has finished
    seconds = time.perf_counter() - started
    test_accuracy = evaluate_accuracy(
        model, reviews["test"], tokenizer, max_length=config["max_length"]
    )
    return {
        "model": model,
        "history": history,
        "test_accuracy": test_accuracy,
        "seconds": seconds,
        "device": str(model.device.type),
        "config": config,
    }

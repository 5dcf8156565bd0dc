"""The one registry of roles: each role declared once, everything else derived from it.

A role ("encoder", "sentiment", ...) is one :class:`Role` in :data:`ROLES`: its model on the
Hugging Face Hub (online), its offline source (:mod:`tutorial_utils.offline_models`: a
packaged folder, a folder converted or trained once into the cache with its recipe version,
or none), the pipeline task and Auto class that load it, and its purpose. Derived from it:

* :func:`offline_folders` and :func:`built_models`: the folder function of each role
  (``tu.checkpoint`` offline, ``offline_models.built_model_figures``);
* :func:`recipe_versions`: each cache entry's current recipe (``cache`` and ``doctor`` say
  "out of date" or "missing");
* :func:`prepare_steps`: what ``python -m tutorial_utils prepare`` verifies or builds, one
  step per offline source (and per packaged data set in :data:`DATA`);
* :func:`pack_entries`: the cache entries ``cache --export`` (the classroom pack) must hold;
* :func:`tutorial_utils.loading.roles_table`: the table lessons show.

A role whose offline model is packaged or already built (by another role) is one
``Role(...)`` line below. A new offline model is a module of :mod:`tutorial_utils.offline_models`
that declares its ``SOURCE``, then one ``Role(...)`` line naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import data
from .offline_models import fill_mask, minilm, sentiment, smollm2, zh_ner, zh_sentiment
from .offline_models.sources import Built, NoOffline, Packaged, Source


@dataclass(frozen=True)
class Role:
    """What a role is online and offline, and which pipeline task and Auto class load it."""

    name: str
    online_id: str  # the model on the Hub
    offline: Source  # offline_models' SOURCE of the model, or NoOffline(reason)
    task: str  # the pipeline task
    auto_class: str
    purpose: str

    @property
    def offline_label(self) -> str:
        """What the offline model is, for people (the source's label)."""
        return self.offline.label


def _registry(*roles: Role) -> dict[str, Role]:
    """``{name: role}``, refusing a name declared twice, or two sources sharing a cache entry."""
    table: dict[str, Role] = {}
    entries: dict[str, Source] = {}
    for role in roles:
        if role.name in table:
            raise ValueError(f"role {role.name!r} is declared twice")
        entry = role.offline.entry
        if entry is not None and entries.setdefault(entry, role.offline) is not role.offline:
            raise ValueError(f"two offline sources share the cache entry {entry!r}")
        table[role.name] = role
    return table


ROLES: dict[str, Role] = _registry(
    Role(
        "encoder",
        "bert-base-uncased",
        minilm.SOURCE,
        "feature-extraction",
        "AutoModel",
        "encoder, hidden states and attention",
    ),
    Role(
        "embedder",
        "sentence-transformers/all-MiniLM-L6-v2",
        minilm.SOURCE,
        "feature-extraction",
        "AutoModel",
        "sentence embeddings and similarity",
    ),
    Role(
        "generator",
        "gpt2",
        smollm2.SOURCE,
        "text-generation",
        "AutoModelForCausalLM",
        "text generation",
    ),
    Role(
        "chat",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        smollm2.SOURCE,
        "text-generation",
        "AutoModelForCausalLM",
        "chat with a chat template",
    ),
    Role(
        "sentiment",
        "distilbert-base-uncased-finetuned-sst-2-english",
        sentiment.SOURCE,
        "text-classification",
        "AutoModelForSequenceClassification",
        "positive / negative sentiment",
    ),
    Role(
        "fill-mask",
        "bert-base-uncased",
        fill_mask.SOURCE,
        "fill-mask",
        "AutoModelForMaskedLM",
        "predict a [MASK]ed word",
    ),
    Role(
        "zh-sentiment",
        "uer/roberta-base-finetuned-dianping-chinese",
        zh_sentiment.SOURCE,
        "text-classification",
        "AutoModelForSequenceClassification",
        "Chinese review sentiment (negative / positive)",
    ),
    Role(
        "zh-ner",
        "uer/roberta-base-finetuned-cluener2020-chinese",
        zh_ner.SOURCE,
        "token-classification",
        "AutoModelForTokenClassification",
        "Chinese named entities, one label per character",
    ),
    Role(
        "zh-encoder",
        "hfl/rbt3",
        zh_sentiment.SOURCE,
        "feature-extraction",
        "AutoModel",
        "Chinese encoder, hidden states (offline: the small Chinese BERT of zh-sentiment)",
    ),
    Role(
        "zh-fill-mask",
        "bert-base-chinese",
        NoOffline(
            "masked-LM pretraining from scratch does not pay on a course's CPU budget: a 4.4 M "
            "parameter BERT trained 6 minutes on 2.6 M characters reached held-out top-5 "
            "accuracy 0.12 and fills 北[MASK]是中国的首都。 with ，的。一国; use "
            "bert-base-chinese online"
        ),
        "fill-mask",
        "AutoModelForMaskedLM",
        "predict a [MASK]ed Chinese character",
    ),
    Role(
        "zh-chat",
        "Qwen/Qwen2.5-0.5B-Instruct",
        smollm2.SOURCE,
        "text-generation",
        "AutoModelForCausalLM",
        "chat in Chinese (offline: the course's SmolLM2, which answers mostly in English)",
    ),
)

#: Packaged data sets that ``prepare`` verifies (they are no role): name, function.
DATA: tuple[tuple[str, Callable[[], Path]], ...] = (
    ("movie reviews (verify package)", data.reviews_csv),
)


def _roles(roles: Mapping[str, Role] | None) -> Mapping[str, Role]:
    return ROLES if roles is None else roles


def offline_folders(roles: Mapping[str, Role] | None = None) -> dict[str, Callable[..., Path]]:
    """The folder function of every role that has an offline model (``NoOffline`` ones have none)."""
    return {
        r.name: r.offline.folder
        for r in _roles(roles).values()
        if not isinstance(r.offline, NoOffline)
    }


def built_models(roles: Mapping[str, Role] | None = None) -> dict[str, Callable[..., Path]]:
    """The folder function of every role whose offline model ``tutorial_utils`` trains itself."""
    return {
        r.name: r.offline.folder
        for r in _roles(roles).values()
        if isinstance(r.offline, Built) and r.offline.kind == "recipe"
    }


def sources(roles: Mapping[str, Role] | None = None) -> list[tuple[Source, list[str]]]:
    """Each offline source once (declaration order), with the names of the roles that use it."""
    found: dict[int, tuple[Source, list[str]]] = {}
    for role in _roles(roles).values():
        if not isinstance(role.offline, NoOffline):
            found.setdefault(id(role.offline), (role.offline, []))[1].append(role.name)
    return list(found.values())


def recipe_versions(roles: Mapping[str, Role] | None = None) -> dict[str, str]:
    """``{cache entry: current recipe version}`` of every source built into the cache."""
    return {s.entry: s.version for s, _ in sources(roles) if isinstance(s, Built)}


def pack_entries(roles: Mapping[str, Role] | None = None) -> list[str]:
    """The cache entries the classroom pack must hold (every built source's)."""
    return list(recipe_versions(roles))


def packaged_sources(roles: Mapping[str, Role] | None = None) -> list[Packaged]:
    """The offline sources read straight from installed PyPI packages."""
    return [s for s, _ in sources(roles) if isinstance(s, Packaged)]


@dataclass(frozen=True)
class Step:
    """One step of ``prepare``: verify or build one offline source (or packaged data set)."""

    name: str  # "sentiment: train once, all-MiniLM-L6-v2 fine-tuned on ..."
    roles: tuple[str, ...]  # the roles it serves (none for a data set)
    run: Callable[..., Path]  # called with progress=True/False; returns the folder or file
    entry: str | None  # its cache entry, if it is built into the cache


def prepare_steps(roles: Mapping[str, Role] | None = None) -> list[Step]:
    """What ``prepare`` does: the packaged data sets, then every offline source once."""
    steps = [Step(name, (), lambda progress=True, f=f: f(), None) for name, f in DATA]
    for source, names in sources(roles):
        name = f"{' / '.join(names)}: {source.action}, {source.label}"
        steps.append(Step(name, tuple(names), source.folder, source.entry))
    return steps

